//! Payouts, as durable jobs: a payout's item holds its checkpoint, and each step (one page of
//! the unpaid index) ends by moving the checkpoint on, conditioned on the step it read, so a
//! step runs to effect once whatever crashes or redeliveries happen.
//!
//! 1. `sum`: every payable reward approved by the payout's cutoff (the unpaid index, GSI1,
//!    by program and shard) adds to its user's line, in the checkpoint's own transaction;
//! 2. `pay`: the same rewards again; each of a user whose line reaches the minimum becomes
//!    `paid` in one transaction with its line's paid sum, guarded by the status it was read
//!    with and by having no payout, so a void or an approve racing it ends one way or the
//!    other, and a reward is in at most one payout;
//! 3. `finish`: the lines are counted, the payout is done and the network's lock released.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::table::SortKey;
use super::super::{items, keys, n, s, Attempt, Expr, Item, Store, StoreError, TxError};
use super::RewardItem;
use crate::clock;
use crate::domain::reward::{status_at, RewardStatus};
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{NetworkId, ProgramId, UserId};

/// Rewards read per step: a step's transaction holds one line update per user, plus the
/// checkpoint.
const PAGE: i32 = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayoutItem {
    pub network_id: String,
    pub payout_id: String,
    /// `running` or `done`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_id: Option<String>,
    pub min_amount_usd_cents: i64,
    pub cutoff_ns: u64,
    pub created_at: String,
    /// The programs it pays, fixed at creation.
    pub programs: Vec<String>,
    /// `sum`, `pay` or `finish`.
    pub phase: String,
    pub prog_idx: usize,
    pub shard: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub step: u64,
    #[serde(default)]
    pub users: u64,
    #[serde(default)]
    pub total_usd_cents: i64,
}

/// A line of a payout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub user: String,
    /// What the sum phase found due.
    #[serde(default)]
    pub due: i64,
    #[serde(default)]
    pub paid: i64,
    #[serde(default)]
    pub rewards: u64,
}

pub enum Created {
    Auth(AuthFailure),
    ProgramNotFound,
    /// Another payout of the network runs.
    Running,
    Started(Box<PayoutItem>),
}

/// What one step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stepped {
    Advanced,
    Done,
    /// Another step moved the checkpoint first.
    Stale,
}

impl PayoutItem {
    fn net(&self) -> Result<NetworkId, StoreError> {
        NetworkId::try_from(self.network_id.as_str()).map_err(|_| items::corrupt("payout network"))
    }

    /// The checkpoint after a page that ended at `last` (None: the shard is done).
    fn advanced(&self, last: Option<String>) -> PayoutItem {
        let mut next = self.clone();
        next.step += 1;
        match last {
            Some(sk) => next.after = Some(sk),
            None => {
                next.after = None;
                next.shard += 1;
                if next.shard == EDGE_SHARDS {
                    next.shard = 0;
                    next.prog_idx += 1;
                }
                if next.prog_idx >= next.programs.len() {
                    next.prog_idx = 0;
                    next.phase = match self.phase.as_str() {
                        "sum" => "pay".into(),
                        _ => "finish".into(),
                    };
                }
            }
        }
        next
    }
}

impl Store {
    pub async fn create_payout(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        program: Option<&ProgramId>,
        min: i64,
    ) -> Result<Created, StoreError> {
        let mut wanted = vec![probe.key.clone()];
        wanted.extend(program.map(|p| keys::program(net, p)));
        let got = self.batch_get(&wanted).await?;
        if let Err(f) = check_key(got.get(&probe.key), net) {
            return Ok(Created::Auth(f));
        }
        let programs = match program {
            Some(p) if got.contains_key(&keys::program(net, p)) => vec![p.as_str().to_owned()],
            Some(_) => return Ok(Created::ProgramNotFound),
            None => self
                .query_partition(
                    false,
                    &keys::programs_partition(net),
                    Some(keys::PROGRAM_PREFIX),
                )
                .await?
                .iter()
                .filter_map(|i| {
                    Some(
                        items::text(i, "SK")?
                            .strip_prefix(keys::PROGRAM_PREFIX)?
                            .to_owned(),
                    )
                })
                .collect(),
        };
        let id = super::super::jobs::new_job_id()?;
        let now = clock::now();
        let payout = PayoutItem {
            network_id: net.as_str().to_owned(),
            payout_id: id.clone(),
            status: "running".into(),
            program_id: program.map(|p| p.as_str().to_owned()),
            min_amount_usd_cents: min,
            cutoff_ns: now.ns,
            created_at: now.rfc3339,
            phase: if programs.is_empty() {
                "finish".into()
            } else {
                "sum".into()
            },
            programs,
            prog_idx: 0,
            shard: 0,
            after: None,
            step: 0,
            users: 0,
            total_usd_cents: 0,
        };
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let lock = items::with_key(
            Item::from([("payout_id".to_owned(), s(id.as_str()))]),
            &keys::payout_lock(net),
        );
        let item = items::with_key(items::to_item(&payout)?, &keys::payout(net, &id));
        let tx = vec![
            self.tx_put(lock, Some(&absent), &e, false)?,
            self.tx_put(item, Some(&absent), &e, false)?,
        ];
        match self.transact(tx).await {
            Ok(()) => Ok(Created::Started(Box::new(payout))),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => Ok(Created::Running),
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Writes a payout item as it is (the local demo's finished payout).
    pub async fn put_payout(&self, p: &PayoutItem) -> Result<(), StoreError> {
        let item = items::with_key(items::to_item(p)?, &keys::payout(&p.net()?, &p.payout_id));
        self.transact(vec![self.tx_put(item, None, &Expr::new(), false)?])
            .await
            .map_err(|e| match e {
                TxError::Store(e) => e,
                TxError::Cancelled(_) => StoreError::Contention,
            })
    }

    pub async fn get_payout(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        id: &str,
    ) -> Result<Result<Option<PayoutItem>, AuthFailure>, StoreError> {
        let k = keys::payout(net, id);
        let mut got = self.batch_get(&[probe.key.clone(), k.clone()]).await?;
        if let Err(f) = check_key(got.get(&probe.key), net) {
            return Ok(Err(f));
        }
        Ok(Ok(got.remove(&k).map(items::from_item).transpose()?))
    }

    /// A page of a payout's paid lines, by user, after `after`.
    pub async fn payout_lines(
        &self,
        net: &NetworkId,
        id: &str,
        after: Option<String>,
        limit: i32,
    ) -> Result<(Vec<LineItem>, Option<String>), StoreError> {
        let page = self
            .query_page(
                &keys::payout_lines_partition(net, id),
                &SortKey::All,
                after,
                Some(limit),
            )
            .await?;
        let lines = page
            .items
            .into_iter()
            .map(items::from_item::<LineItem>)
            .filter(|l| l.as_ref().map_or(true, |l| l.rewards > 0))
            .collect::<Result<_, _>>()?;
        Ok((lines, page.last_sk))
    }

    /// Runs the payout's current step, if it still runs.
    pub async fn payout_step(&self, net: &NetworkId, id: &str) -> Result<Stepped, StoreError> {
        let Some(item) = self.get(&keys::payout(net, id)).await? else {
            return Ok(Stepped::Done);
        };
        let p: PayoutItem = items::from_item(item)?;
        if p.status != "running" {
            return Ok(Stepped::Done);
        }
        let before = self.capacity().mark();
        let out = match p.phase.as_str() {
            "finish" => self.finish_payout(&p).await,
            _ => self.payout_page(&p).await,
        };
        self.throttle(self.capacity().spent_since(before)).await;
        out
    }

    /// One page of the unpaid index, summed (`sum`) or paid (`pay`).
    async fn payout_page(&self, p: &PayoutItem) -> Result<Stepped, StoreError> {
        let net = p.net()?;
        let prog = ProgramId::try_from(
            p.programs
                .get(p.prog_idx)
                .map(String::as_str)
                .unwrap_or_default(),
        )
        .map_err(|_| items::corrupt("payout program"))?;
        let pk = keys::unpaid_partition(&net, &prog, p.shard);
        // Approvable by the cutoff, after the checkpoint (a key condition takes no empty
        // string, so the first page has no lower bound).
        let to = format!("{:020}#~", p.cutoff_ns);
        let range = match &p.after {
            Some(a) => SortKey::Between(format!("{a}\u{1}"), to),
            None => SortKey::Below(to),
        };
        let (rows, last) = self
            .query_on(Some(keys::GSI1), &pk, &range, None, Some(PAGE))
            .await?;
        let rewards: Vec<RewardItem> = rows
            .into_iter()
            .map(items::from_item::<RewardItem>)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|r| r.payout_id.is_none())
            .filter(|r| status_at(r.status, r.approvable_ns, p.cutoff_ns) == RewardStatus::Approved)
            .collect();
        let last_sk = match &last {
            Some(k) => Some(
                items::text(k, keys::GSI1SK)
                    .ok_or_else(|| items::corrupt("unpaid key"))?
                    .to_owned(),
            ),
            None => None,
        };
        let mut tx = Vec::new();
        if p.phase == "sum" {
            let mut due: BTreeMap<&str, (i64, u64)> = BTreeMap::new();
            for r in &rewards {
                let e = due.entry(r.user.as_str()).or_default();
                e.0 += r.amount_usd_cents;
                e.1 += 1;
            }
            for (user, (cents, _)) in due {
                let mut e = Expr::new();
                let update = format!(
                    "SET {} = {} ADD {} {}",
                    e.n("user"),
                    e.v(s(user)),
                    e.n("due"),
                    e.v(n(cents))
                );
                let key = keys::payout_line(&net, &p.payout_id, &items::user_id(user)?);
                tx.push(self.tx_update(&key, &update, None, &e)?);
            }
        } else {
            self.pay_page(p, &net, &rewards).await?;
        }
        tx.insert(0, self.checkpoint(p, &p.advanced(last_sk))?);
        self.commit_step(tx).await
    }

    /// Pays, one transaction each, the page's rewards whose user's line reaches the minimum.
    async fn pay_page(
        &self,
        p: &PayoutItem,
        net: &NetworkId,
        rewards: &[RewardItem],
    ) -> Result<(), StoreError> {
        let users: BTreeSet<&str> = rewards.iter().map(|r| r.user.as_str()).collect();
        let wanted = users
            .iter()
            .map(|u| Ok(keys::payout_line(net, &p.payout_id, &items::user_id(u)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let lines = self.batch_get(&wanted).await?;
        let due = |user: &str| -> Result<i64, StoreError> {
            let key = keys::payout_line(net, &p.payout_id, &items::user_id(user)?);
            Ok(lines.get(&key).map_or(0, |i| items::signed(i, "due")))
        };
        let min = p.min_amount_usd_cents.max(1);
        for r in rewards {
            if due(&r.user)? < min {
                continue;
            }
            self.pay_reward(p, net, r).await?;
        }
        Ok(())
    }

    async fn pay_reward(
        &self,
        p: &PayoutItem,
        net: &NetworkId,
        r: &RewardItem,
    ) -> Result<(), StoreError> {
        let user: UserId = items::user_id(&r.user)?;
        self.retrying(|_| async {
            let mut next = r.clone();
            next.status = RewardStatus::Paid;
            next.payout_id = Some(p.payout_id.clone());
            let mut tx = self.reward_status_items(net, &next, r.status)?;
            let mut e = Expr::new();
            let update = format!(
                "SET {} = {} ADD {} {}, {} {}",
                e.n("user"),
                e.v(s(r.user.as_str())),
                e.n("paid"),
                e.v(n(r.amount_usd_cents)),
                e.n("rewards"),
                e.v(n(1))
            );
            tx.push(self.tx_update(
                &keys::payout_line(net, &p.payout_id, &user),
                &update,
                None,
                &e,
            )?);
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(())),
                // Voided, approved anew or paid since the read: it stays as that left it.
                Err(TxError::Cancelled(c)) if TxError::condition_failed(&c, 0) => {
                    Ok(Attempt::Done(()))
                }
                Err(e) => e.retry(),
            }
        })
        .await
    }

    async fn finish_payout(&self, p: &PayoutItem) -> Result<Stepped, StoreError> {
        let net = p.net()?;
        let lines: Vec<LineItem> = self
            .query_partition(
                false,
                &keys::payout_lines_partition(&net, &p.payout_id),
                None,
            )
            .await?
            .into_iter()
            .map(items::from_item)
            .collect::<Result<_, _>>()?;
        let mut done = p.advanced(None);
        done.status = "done".into();
        done.users = lines.iter().filter(|l| l.rewards > 0).count() as u64;
        done.total_usd_cents = lines.iter().map(|l| l.paid).sum();
        let mut e = Expr::new();
        let cond = format!("{} = {}", e.n("payout_id"), e.v(s(p.payout_id.as_str())));
        let tx = vec![
            self.checkpoint(p, &done)?,
            self.tx_delete(&keys::payout_lock(&net), Some(&cond), &e)?,
        ];
        match self.commit_step(tx).await? {
            Stepped::Advanced => Ok(Stepped::Done),
            other => Ok(other),
        }
    }

    /// The payout item as `next`, if it still is at the step `p` read.
    fn checkpoint(
        &self,
        p: &PayoutItem,
        next: &PayoutItem,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let net = p.net()?;
        let mut e = Expr::new();
        let cond = format!("{} = {}", e.n("step"), e.v(n(p.step)));
        self.tx_put(
            items::with_key(items::to_item(next)?, &keys::payout(&net, &p.payout_id)),
            Some(&cond),
            &e,
            false,
        )
    }

    async fn commit_step(
        &self,
        tx: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<Stepped, StoreError> {
        match self.transact(tx).await {
            Ok(()) => Ok(Stepped::Advanced),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => Ok(Stepped::Stale),
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}
