//! Balances, merged from the stream of rewards per batch, as the downline counts are: a
//! reward's copy carries `bal` once its amount is in its beneficiary's balance, and that mark
//! changes only in the transaction that adds the amount, so a redelivered record adds nothing.
//! The top referrer of a viral tree gets one write per batch on one of `COUNT_SHARDS` items,
//! never one per event.

use std::collections::BTreeMap;

use super::super::{items, keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use super::RewardItem;
use crate::domain::reward::{hour_of, Balance, RewardStatus};
use crate::domain::shards::{spread, COUNT_SHARDS};
use crate::domain::{NetworkId, UserId};

/// A reward copy that appeared, with its key.
#[derive(Clone, Debug)]
pub struct NewReward {
    pub copy: Key,
    pub reward: RewardItem,
}

/// The balance attribute a reward adds to: fixed statuses by name, pending by approvable hour.
fn bucket(r: &RewardItem) -> String {
    match r.status {
        RewardStatus::Pending => format!("p{}", hour_of(r.approvable_ns)),
        s => s.as_str().to_owned(),
    }
}

/// A transaction's rewards: their marks, then one balance update (at most 100 items).
const PER_TX: usize = super::super::MAX_TX_ITEMS - 1;

impl Store {
    /// Adds each new reward to its beneficiary's balance once, on the shard `seed` picks.
    pub async fn apply_new_rewards(
        &self,
        rewards: &[NewReward],
        seed: &str,
    ) -> Result<(), StoreError> {
        let shard = spread(seed, COUNT_SHARDS);
        let mut per: BTreeMap<(String, String), Vec<&NewReward>> = BTreeMap::new();
        for r in rewards {
            per.entry((r.reward.network_id.clone(), r.reward.user.clone()))
                .or_default()
                .push(r);
        }
        for ((net, user), list) in per {
            let net =
                NetworkId::try_from(net.as_str()).map_err(|_| items::corrupt("reward network"))?;
            let user = items::user_id(&user)?;
            for chunk in list.chunks(PER_TX) {
                self.apply_balance_chunk(&net, &user, chunk, shard).await?;
            }
        }
        Ok(())
    }

    async fn apply_balance_chunk(
        &self,
        net: &NetworkId,
        user: &UserId,
        chunk: &[&NewReward],
        shard: usize,
    ) -> Result<(), StoreError> {
        let live = std::sync::Mutex::new(chunk.to_vec());
        self.retrying(|_| {
            let live = &live;
            async move {
                let now: Vec<&NewReward> = live.lock().map(|l| l.clone()).unwrap_or_default();
                if now.is_empty() {
                    return Ok(Attempt::Done(()));
                }
                let mut tx = Vec::with_capacity(now.len() + 1);
                let mut sums: BTreeMap<String, i64> = BTreeMap::new();
                let mut as_of = 0u64;
                for r in &now {
                    let mut e = Expr::new();
                    let mark = e.n("bal");
                    let update = format!("SET {mark} = {}", e.v(s(r.reward.status.as_str())));
                    let cond = format!(
                        "attribute_exists({}) AND attribute_not_exists({mark})",
                        e.n(keys::PK)
                    );
                    tx.push(self.tx_update(&r.copy, &update, Some(&cond), &e)?);
                    *sums.entry(bucket(&r.reward)).or_default() += r.reward.amount_usd_cents;
                    as_of = as_of.max(r.reward.created_ns);
                }
                let mut e = Expr::new();
                let adds: Vec<String> = sums
                    .iter()
                    .map(|(b, v)| format!("{} {}", e.n(b), e.v(n(*v))))
                    .collect();
                let update = format!(
                    "SET {} = {}, {} = {} ADD {}",
                    e.n("as_of_ns"),
                    e.v(n(as_of)),
                    e.n("user"),
                    e.v(s(user.as_str())),
                    adds.join(", ")
                );
                tx.push(self.tx_update(&keys::balance(net, user, shard), &update, None, &e)?);
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(())),
                    Err(TxError::Cancelled(r)) => {
                        // A marked copy is in the balance already (or gone): drop it.
                        let done: Vec<usize> = (0..now.len())
                            .filter(|i| TxError::condition_failed(&r, *i))
                            .collect();
                        if let Ok(mut l) = live.lock() {
                            let keep: Vec<&NewReward> = now
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| !done.contains(i))
                                .map(|(_, r)| *r)
                                .collect();
                            *l = keep;
                        }
                        Ok(Attempt::Retry)
                    }
                    Err(TxError::Store(e)) => Err(e),
                }
            }
        })
        .await
    }

    /// The balance shards' keys of a user.
    pub fn balance_keys(net: &NetworkId, user: &UserId) -> Vec<Key> {
        (0..COUNT_SHARDS)
            .map(|c| keys::balance(net, user, c))
            .collect()
    }
}

/// A user's balance at `now_ns` from its shards, and up to when it counts rewards (ns).
pub fn balance_of<'a>(shards: impl IntoIterator<Item = &'a Item>, now_ns: u64) -> (Balance, u64) {
    let mut fixed = [0i64; 3];
    let mut pending: Vec<(u64, i64)> = Vec::new();
    let mut as_of = 0;
    for item in shards {
        as_of = as_of.max(items::num(item, "as_of_ns"));
        for (name, v) in item {
            let Some(cents) = v.as_n().ok().and_then(|x| x.parse::<i64>().ok()) else {
                continue;
            };
            match name.as_str() {
                "approved" => fixed[0] += cents,
                "paid" => fixed[1] += cents,
                "voided" => fixed[2] += cents,
                p => {
                    if let Some(hour) = p.strip_prefix('p').and_then(|h| h.parse::<u64>().ok()) {
                        pending.push((hour, cents));
                    }
                }
            }
        }
    }
    (Balance::at(fixed, pending, now_ns), as_of)
}
