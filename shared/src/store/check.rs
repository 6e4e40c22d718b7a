//! Reads the whole table (a parallel Scan) into the facts `domain::check` verifies. For
//! operators and tests: it reads every item, so it costs the table's size in read units.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::codes::{CodeItem, ShardItem};
use super::graph::fence::FenceItem;
use super::graph::MembershipItem;
use super::jobs::{JobItem, JobStatus};
use super::keys::Prefix;
use super::rewards::payouts::LineItem;
use super::rewards::RewardItem;
use super::webhooks::WebhookItem;
use super::{classify, items, keys, Item, Store, StoreError};
use crate::domain::check::{CodeFact, CreditFact, Facts, LedgerFact, MemberFact};
use crate::domain::deso::LedgerEntry;
use crate::domain::leaderboard::Period;
use crate::domain::reward_check::RewardFact;
use crate::domain::shards::member_shard;
use crate::domain::webhook::EventType;
use crate::domain::webhook_check::{HookFact, ToldFact};
use crate::domain::{Level, UserId};

/// Scan segments read at once.
const SEGMENTS: i32 = 4;

#[derive(Deserialize)]
struct CreditItem {
    #[serde(default)]
    counted: bool,
    #[serde(default)]
    code: Option<String>,
}

/// `<prefix><net>#<prog>#<rest>`: (net, prog, rest). Network and program ids hold no `#`.
fn scoped(pk: &str, prefix: Prefix) -> Option<(&str, &str, &str)> {
    let rest = prefix.strip(pk)?;
    let (net, rest) = rest.split_once('#')?;
    let (prog, rest) = rest.split_once('#')?;
    Some((net, prog, rest))
}

/// `<rest>#<shard>`: (rest, shard).
fn sharded(rest: &str) -> Option<(&str, usize)> {
    let (head, shard) = rest.rsplit_once('#')?;
    Some((head, shard.parse().ok()?))
}

fn code_of_pk(pk: &str, prefix: Prefix) -> Option<&str> {
    sharded(prefix.strip(pk)?).map(|(c, _)| c)
}

/// Collects the facts, keeping only network `only` when given.
#[derive(Default)]
struct Collector {
    facts: Facts,
    code_shards: BTreeMap<String, ShardItem>,
    only: Option<String>,
}

impl Collector {
    fn add(&mut self, item: Item) -> Result<(), StoreError> {
        let pk = items::text(&item, keys::PK).unwrap_or_default().to_owned();
        let sk = items::text(&item, keys::SK).unwrap_or_default().to_owned();
        let only = self.only.as_deref();
        let wanted = |net: &str| only.is_none_or(|o| o == net);
        let f = &mut self.facts;
        if let Some((net, prog, _)) = scoped(&pk, Prefix::Mem) {
            if wanted(net) {
                let m: MembershipItem = items::from_item(item)?;
                // a connection never moved since it was made: its message is recomputable
                if m.referrer.is_some() && m.past.is_empty() && m.moved_by.is_none() {
                    f.webhooks.told.push(ToldFact {
                        net: net.into(),
                        kind: EventType::ConnectionCreated,
                        identity: format!("{pk}|{}", m.connected_ns),
                        at_ms: m.connected_ns / 1_000_000,
                    });
                }
                f.members
                    .entry((net.into(), prog.into()))
                    .or_default()
                    .insert(
                        m.user.clone(),
                        MemberFact {
                            referrer: m.referrer,
                            upline: m.upline,
                            root: m.root,
                        },
                    );
            }
        } else if let Some((net, prog, rest)) = scoped(&pk, Prefix::Down) {
            let (Some((ancestor, shard)), Some((level, _, user))) =
                (sharded(rest), keys::parse_edge_sk(&sk))
            else {
                return Err(items::corrupt("edge key"));
            };
            if wanted(net) {
                if UserId::from_stored(user).map(|u| member_shard(&u)) != Ok(shard) {
                    f.misplaced_edges.push(format!("{pk} {sk}"));
                }
                f.edges
                    .entry((net.into(), prog.into()))
                    .or_default()
                    .insert((ancestor.into(), level, user.into()));
            }
        } else if let Some((net, prog, rest)) = scoped(&pk, Prefix::Agg) {
            if let (Some((ancestor, _)), Some((level, _, user))) =
                (sharded(rest), keys::parse_edge_sk(&sk))
            {
                if wanted(net) {
                    f.marks
                        .entry((net.into(), prog.into()))
                        .or_default()
                        .insert((ancestor.into(), level, user.into()));
                }
            }
        } else if let Some((net, prog, rest)) = scoped(&pk, Prefix::Cnt) {
            let user = sharded(rest).ok_or_else(|| items::corrupt("count key"))?.0;
            if wanted(net) {
                let slot = f
                    .counts
                    .entry((net.into(), prog.into()))
                    .or_default()
                    .entry(user.into())
                    .or_insert([0; Level::MAX.depth()]);
                for (i, v) in slot.iter_mut().enumerate() {
                    *v += signed(&item, &format!("c{}", i + 1));
                }
                let months: i64 = item
                    .keys()
                    .filter(|a| Period::of_referrals_attr(a).is_some())
                    .map(|a| signed(&item, a))
                    .sum();
                *f.month_sums
                    .entry((net.into(), prog.into()))
                    .or_default()
                    .entry(user.into())
                    .or_default() += months;
            }
        } else if let Some((net, prog, rest)) = scoped(&pk, Prefix::Fence) {
            let root = sharded(rest).ok_or_else(|| items::corrupt("fence key"))?.0;
            let fence: FenceItem = items::from_item(item)?;
            if wanted(net) {
                for job in fence.fence.into_iter().chain(fence.dest_lock) {
                    f.fences.push((net.into(), prog.into(), root.into(), job));
                }
            }
        } else if Prefix::of(&pk) == Some(Prefix::Job) {
            let job: JobItem = items::from_item(item)?;
            if wanted(&job.network_id) && job.status == JobStatus::Running {
                f.moving
                    .insert((job.network_id.clone(), job.program_id.clone()));
                f.running_jobs.insert((job.network_id, job.id));
            }
        } else if Prefix::of(&pk) == Some(Prefix::Code) {
            let c: CodeItem = items::from_item(item)?;
            if wanted(&c.network_id) {
                f.codes.insert(c.key()?.key_token(), CodeFact::default());
            }
        } else if let Some(code) = code_of_pk(&pk, Prefix::CodeShard) {
            let shard: ShardItem = items::from_item(item)?;
            let t = self.code_shards.entry(code.into()).or_default();
            t.total_referrals += shard.total_referrals;
            t.num_jumio_successes += shard.num_jumio_successes;
            t.total_referrer_deso_nanos += shard.total_referrer_deso_nanos;
            t.total_referee_deso_nanos += shard.total_referee_deso_nanos;
        } else if let Some(code) = code_of_pk(&pk, Prefix::CodeRef) {
            *f.code_refs.entry(code.into()).or_default() += 1;
        } else if let Some(rest) = Prefix::Credit.strip(&pk) {
            let (net, user) = rest
                .split_once('#')
                .ok_or_else(|| items::corrupt("credit key"))?;
            if wanted(net) {
                let c: CreditItem = items::from_item(item)?;
                f.credits.insert(
                    (net.into(), user.into()),
                    CreditFact {
                        counted: c.counted,
                        code: c.code,
                    },
                );
            }
        } else if let Some(kind @ (Prefix::Rwd | Prefix::URwd | Prefix::PRwd)) = Prefix::of(&pk) {
            let r: RewardItem = items::from_item(item.clone())?;
            if wanted(&r.network_id) && kind == Prefix::Rwd {
                f.webhooks.told.push(ToldFact {
                    net: r.network_id.clone(),
                    kind: EventType::RewardCreated,
                    identity: pk.clone(),
                    at_ms: r.created_ns / 1_000_000,
                });
            }
            if wanted(&r.network_id) {
                let fact = RewardFact {
                    user: r.user.clone(),
                    status: r.status,
                    amount: r.amount_usd_cents,
                    approvable_ns: r.approvable_ns,
                    payout_id: r.payout_id.clone(),
                    derived_id: RewardFact::derive_id(
                        &r.network_id,
                        &r.event_id,
                        &r.program_id,
                        &r.rule_id,
                        r.level,
                        r.reverses.as_deref(),
                    ),
                    bal: items::text(&item, "bal").map(str::to_owned),
                };
                let rf = &mut f.rewards;
                let into = match kind {
                    Prefix::Rwd => &mut rf.canonical,
                    Prefix::URwd => &mut rf.user_copies,
                    _ => &mut rf.program_copies,
                };
                into.insert((r.network_id, r.reward_id), fact);
            }
        } else if let Some((net, hook)) = keys::parse_messages_partition(&pk) {
            if wanted(net) && sk.len() > 15 {
                f.webhooks
                    .messages
                    .insert((net.into(), hook.into(), sk[15..].to_owned()));
            }
        } else if let (Some(net), Some(id)) = (
            Prefix::Net.strip(&pk),
            sk.strip_prefix(keys::WEBHOOK_PREFIX),
        ) {
            if wanted(net) {
                let w: WebhookItem = items::from_item(item)?;
                f.webhooks.hooks.insert(
                    (net.into(), id.into()),
                    HookFact {
                        events: w.events,
                        active: w.active,
                        since_ms: w.since_ms,
                    },
                );
            }
        } else if let Some(rest) = Prefix::Bal.strip(&pk) {
            let net = rest.split('#').next().unwrap_or_default();
            if wanted(net) {
                let user = items::text(&item, "user").unwrap_or_default().to_owned();
                let b = f.rewards.balances.entry((net.into(), user)).or_default();
                for (name, _) in item.iter() {
                    let fixed = ["approved", "paid", "voided"].contains(&name.as_str());
                    let pending = name
                        .strip_prefix('p')
                        .is_some_and(|h| h.parse::<u64>().is_ok());
                    if fixed || pending {
                        *b.entry(name.clone()).or_default() += signed(&item, name);
                    }
                }
            }
        } else if let Some(rest) = Prefix::PayLine.strip(&pk) {
            if let Some((net, payout)) = rest.split_once('#') {
                if wanted(net) {
                    let l: LineItem = items::from_item(item)?;
                    f.rewards
                        .lines
                        .insert((net.into(), payout.into(), sk), (l.paid, l.rewards));
                }
            }
        } else if let Some(rest) = Prefix::Ledger.strip(&pk) {
            let net = rest.split('#').next().unwrap_or_default();
            if wanted(net) {
                let e: LedgerEntry = items::from_item(item)?;
                f.ledger.push(LedgerFact {
                    network: net.into(),
                    beneficiary: e.beneficiary,
                    referee: e.referee,
                    role: e.role,
                    deso_nanos: e.deso_nanos,
                    code: e.code,
                    counted: e.counted,
                });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Facts {
        let codes: BTreeSet<String> = self.facts.codes.keys().cloned().collect();
        for (code, t) in self.code_shards {
            if let Some(c) = self.facts.codes.get_mut(&code) {
                *c = CodeFact {
                    total_referrals: t.total_referrals,
                    num_jumio_successes: t.num_jumio_successes,
                    total_referrer_deso_nanos: t.total_referrer_deso_nanos,
                    total_referee_deso_nanos: t.total_referee_deso_nanos,
                };
            }
        }
        // Connections through another network's codes are that network's business.
        if self.only.is_some() {
            self.facts.code_refs.retain(|c, _| codes.contains(c));
        }
        self.facts
    }
}

/// A count, which may be negative while a removal is counted before its addition.
fn signed(item: &Item, attr: &str) -> i64 {
    match item.get(attr) {
        Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Store {
    /// Every item of the table, `SEGMENTS` segments at a time.
    pub(crate) async fn scan_all(&self) -> Result<Vec<Item>, StoreError> {
        let segs = (0..SEGMENTS).map(|seg| async move {
            let mut out = Vec::new();
            let mut start = None;
            loop {
                let resp = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .segment(seg)
                    .total_segments(SEGMENTS)
                    .consistent_read(true)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(classify)?;
                out.extend(resp.items.unwrap_or_default());
                match resp.last_evaluated_key {
                    Some(k) => start = Some(k),
                    None => return Ok::<_, StoreError>(out),
                }
            }
        });
        Ok(futures::future::try_join_all(segs)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// The facts of the whole table, or of network `only`.
    pub async fn check_facts(&self, only: Option<&str>) -> Result<Facts, StoreError> {
        let mut c = Collector {
            only: only.map(str::to_owned),
            ..Collector::default()
        };
        for item in self.scan_all().await? {
            c.add(item)?;
        }
        let w = &mut c.facts.webhooks;
        w.now_ms = crate::clock::now_ms();
        // the fanout's lag, with room; and the messages' lifetime
        w.settle_ms = 60_000;
        w.keep_ms = super::webhooks::messages::KEEP_SECS * 1000;
        Ok(c.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_keys_split_at_their_ids() {
        assert_eq!(
            scoped("MEM#n#p#a#b@x.io", Prefix::Mem),
            Some(("n", "p", "a#b@x.io"))
        );
        assert_eq!(sharded("a#b@x.io#3"), Some(("a#b@x.io", 3)));
        assert_eq!(code_of_pk("CODEREF#abc#7", Prefix::CodeRef), Some("abc"));
        assert_eq!(scoped("MEM#n", Prefix::Mem), None);
    }
}
