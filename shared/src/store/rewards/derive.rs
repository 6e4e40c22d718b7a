//! What the rewards consumer derives from committed changes: a signup event when a user gets
//! its first referrer in a program, and an event's rewards.
//!
//! Exactly once by construction: a reward's id comes from (event, program, rule, level), and
//! its canonical item is written only if absent, in one transaction with the beneficiary's
//! copy and the referee's count under the rule. A redelivered event, or one settled twice
//! side by side, finds the rewards written and adds nothing.

use std::collections::{BTreeSet, HashMap};

use super::super::graph::MembershipItem;
use super::super::users::ProfileItem;
use super::super::{items, keys, n, s, Attempt, Expr, Store, StoreError, TxError};
use super::{EventItem, RewardItem};
use crate::clock;
use crate::domain::reward::{
    approvable_ns, reward_id, signup_event_id, RewardStatus, Rule, SIGNUP,
};
use crate::domain::{NetworkId, Program, ProgramId, UserId};

/// The upline a member had at `at_ms`, nearest first: empty when it had no referrer then.
pub fn upline_at(m: &MembershipItem, at_ms: u64) -> Vec<String> {
    let mut from = 0u64;
    for p in &m.past {
        let start = from.max(p.ns / 1_000_000);
        if (start..p.until_ms).contains(&at_ms) {
            return p.upline.clone();
        }
        from = p.until_ms;
    }
    let start = from.max(m.connected_ns / 1_000_000);
    if m.referrer.is_some() && at_ms >= start {
        m.upline.clone()
    } else {
        Vec::new()
    }
}

/// Whether a membership change gave the user its first referrer (a move or a relink after a
/// removal also gives a referrer; the event's own id keeps the signup to the first).
pub fn gained_referrer(old: Option<&MembershipItem>, new: &MembershipItem) -> bool {
    new.referrer.is_some() && old.is_none_or(|o| o.referrer.is_none())
}

/// Items a new reward writes (`writes::new_reward_items`).
const PER_REWARD: usize = 3;

/// One reward to write.
struct Planned {
    item: RewardItem,
    key: crate::store::Key,
}

impl Store {
    /// Records the `signup` event of a user that got a referrer in `prog`; nothing if it
    /// has one already.
    pub async fn record_signup(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        m: &MembershipItem,
    ) -> Result<(), StoreError> {
        let at = if m.connected_ns > 0 {
            m.connected_ns
        } else {
            clock::now().ns
        };
        let event = EventItem {
            network_id: net.as_str().to_owned(),
            event_id: signup_event_id(prog, &m.user),
            user: m.user.clone(),
            event: SIGNUP.to_owned(),
            amount_usd_cents: 0,
            metadata: "{}".to_owned(),
            accepted_at: clock::rfc3339(at),
            accepted_ns: at,
            program_id: Some(prog.as_str().to_owned()),
            upline: Some(m.upline.clone()),
            settled: false,
            rewards: Vec::new(),
            reversed_at: None,
            reverse_reason: None,
            reversal_done: false,
        };
        self.put_event(net, &event).await.map(|_| ())
    }

    /// Writes the rewards `ev` earns and marks it settled.
    pub async fn settle_event(&self, ev: &EventItem) -> Result<(), StoreError> {
        let net = NetworkId::try_from(ev.network_id.as_str())
            .map_err(|_| items::corrupt("event network"))?;
        let user = items::user_id(&ev.user)?;
        let rules: Vec<Rule> = self
            .network_rules(&net)
            .await?
            .into_iter()
            .filter(|r| r.applies(&ev.event, ev.amount_usd_cents))
            .filter(|r| ev.program_id.as_ref().is_none_or(|p| *p == r.program_id))
            .collect();
        let programs: BTreeSet<String> = rules.iter().map(|r| r.program_id.clone()).collect();
        let (programs, uplines) = self.uplines(&net, &user, ev, &programs).await?;
        let beneficiaries: BTreeSet<&String> = uplines.values().flatten().collect();
        let profiles = self
            .batch_get(
                &beneficiaries
                    .iter()
                    .map(|u| Ok(keys::profile(&net, &items::user_id(u)?)))
                    .collect::<Result<Vec<_>, StoreError>>()?,
            )
            .await?;
        let mut banned = BTreeSet::new();
        for item in profiles.into_values() {
            let p: ProfileItem = items::from_item(item)?;
            if p.banned() {
                banned.insert(p.user);
            }
        }
        let now = clock::now();
        let mut earned = Vec::new();
        for rule in &rules {
            let (Some(program), Some(upline)) = (
                programs.get(&rule.program_id),
                uplines.get(&rule.program_id),
            ) else {
                continue;
            };
            let planned: Vec<Planned> = rule
                .levels
                .iter()
                .filter(|l| l.level <= program.max_levels.get())
                .filter_map(|l| {
                    let to = upline.get(l.level as usize - 1)?;
                    let amount = l.earns(ev.amount_usd_cents);
                    (amount > 0 && !banned.contains(to)).then_some((l.level, to, amount))
                })
                .map(|(level, to, amount)| {
                    let id = reward_id(
                        &ev.network_id,
                        &ev.event_id,
                        &rule.program_id,
                        &rule.rule_id,
                        level,
                    );
                    let approvable = approvable_ns(now.ns, rule.hold_days);
                    let item = RewardItem {
                        network_id: ev.network_id.clone(),
                        reward_id: id.clone(),
                        program_id: rule.program_id.clone(),
                        rule_id: rule.rule_id.clone(),
                        event_id: ev.event_id.clone(),
                        event: ev.event.clone(),
                        referee: ev.user.clone(),
                        user: to.clone(),
                        level,
                        amount_usd_cents: amount as i64,
                        status: if rule.hold_days == 0 {
                            RewardStatus::Approved
                        } else {
                            RewardStatus::Pending
                        },
                        created_at: now.rfc3339.clone(),
                        created_ns: now.ns,
                        approvable_ns: approvable,
                        payout_id: None,
                        reverses: None,
                        reason: None,
                    };
                    Planned {
                        key: keys::reward(&net, &id),
                        item,
                    }
                })
                .collect();
            if planned.is_empty() {
                continue;
            }
            if self.write_rule_rewards(&net, &user, rule, &planned).await? {
                earned.extend(planned.into_iter().map(|p| p.item.reward_id));
            }
        }
        self.mark_settled(&net, &ev.event_id, &earned).await
    }

    /// The programs of `wanted` and the event's upline in each, as it stood at acceptance.
    async fn uplines(
        &self,
        net: &NetworkId,
        user: &UserId,
        ev: &EventItem,
        wanted: &BTreeSet<String>,
    ) -> Result<(HashMap<String, Program>, HashMap<String, Vec<String>>), StoreError> {
        let ids: Vec<ProgramId> = wanted
            .iter()
            .filter_map(|p| ProgramId::try_from(p.as_str()).ok())
            .collect();
        let mut keys_wanted: Vec<_> = ids.iter().map(|p| keys::program(net, p)).collect();
        keys_wanted.extend(ids.iter().map(|p| keys::membership(net, p, user)));
        if keys_wanted.is_empty() {
            return Ok(Default::default());
        }
        let mut got = self.batch_get(&keys_wanted).await?;
        let mut programs = HashMap::new();
        let mut uplines = HashMap::new();
        for p in &ids {
            let Some(program) = got
                .remove(&keys::program(net, p))
                .map(items::program)
                .transpose()?
                .filter(|pr| pr.active)
            else {
                continue;
            };
            let upline = match (&ev.program_id, &ev.upline) {
                (Some(only), Some(snapshot)) if only == p.as_str() => snapshot.clone(),
                _ => match got.remove(&keys::membership(net, p, user)) {
                    Some(item) => {
                        let m: MembershipItem = items::from_item(item)?;
                        upline_at(&m, ev.accepted_ns / 1_000_000)
                    }
                    None => Vec::new(),
                },
            };
            programs.insert(p.as_str().to_owned(), program);
            uplines.insert(p.as_str().to_owned(), upline);
        }
        Ok((programs, uplines))
    }

    /// One rule's rewards of one event, all or none. True when they are written (now or
    /// before); false when the rule's cap per referee is reached.
    async fn write_rule_rewards(
        &self,
        net: &NetworkId,
        referee: &UserId,
        rule: &Rule,
        planned: &[Planned],
    ) -> Result<bool, StoreError> {
        let first = &planned[0].key;
        self.retrying(|_| async move {
            let mut tx = Vec::with_capacity(planned.len() * PER_REWARD + 1);
            for p in planned {
                tx.extend(self.new_reward_items(net, &p.item)?);
            }
            let capped = rule.max_rewards_per_referee > 0;
            if capped {
                let prog = ProgramId::try_from(rule.program_id.as_str())
                    .map_err(|_| items::corrupt("rule program"))?;
                let mut e = Expr::new();
                let count = e.n("n");
                let update = format!("ADD {count} {}", e.v(n(1)));
                let cond = format!(
                    "attribute_not_exists({count}) OR {count} < {}",
                    e.v(n(rule.max_rewards_per_referee))
                );
                let key = keys::referee_rewards(net, &prog, &rule.rule_id, referee);
                tx.push(self.tx_update(&key, &update, Some(&cond), &e)?);
            }
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(true)),
                Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                    Ok(Attempt::Done(true))
                }
                Err(TxError::Cancelled(r))
                    if capped && TxError::condition_failed(&r, planned.len() * PER_REWARD) =>
                {
                    // The cap, or this very event counted before: its rewards tell which.
                    Ok(Attempt::Done(self.get(first).await?.is_some()))
                }
                Err(e) => e.retry(),
            }
        })
        .await
    }

    async fn mark_settled(
        &self,
        net: &NetworkId,
        event_id: &str,
        rewards: &[String],
    ) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let mut update = format!(
            "SET {} = {}",
            e.n("settled"),
            e.v(aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        );
        if !rewards.is_empty() {
            update.push_str(&format!(
                ", {} = {}",
                e.n("rewards"),
                e.v(aws_sdk_dynamodb::types::AttributeValue::L(
                    rewards.iter().map(|r| s(r.as_str())).collect()
                ))
            ));
        }
        self.update_event(net, event_id, &update, e).await
    }

    /// One UpdateItem of an event that exists (a plain write: 1 unit, not a transaction's 2).
    pub(crate) async fn update_event(
        &self,
        net: &NetworkId,
        event_id: &str,
        update: &str,
        mut e: Expr,
    ) -> Result<(), StoreError> {
        let cond = format!("attribute_exists({})", e.n(keys::PK));
        let sent = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(crate::store::table::key_item(&keys::event(
                net, event_id,
            ))))
            .update_expression(update)
            .condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|x| x.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(crate::store::classify(err)),
        }
    }
}
