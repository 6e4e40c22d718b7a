//! Balances, merged from the stream of rewards per batch, as the downline counts are: a
//! reward's copy carries `bal`, the balance bucket its amount is counted in, and that mark
//! changes only in the transaction that moves the amount, guarded by its old value, so a
//! redelivered or stale record moves nothing. A record whose image is stale (the mark moved
//! since) is dropped: the write that moved the mark made a newer record of its own.
//! The top referrer of a viral tree gets one write per batch on one of `COUNT_SHARDS` items,
//! never one per event.

use std::collections::BTreeMap;

use super::super::{items, keys, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use super::RewardItem;
use crate::domain::leaderboard::Period;
use crate::domain::reward::Balance;
use crate::domain::shards::{spread, COUNT_SHARDS};
use crate::domain::{NetworkId, ProgramId, UserId};

/// A reward copy as a stream record shows it: its key, the reward, and its mark.
#[derive(Clone, Debug)]
pub struct RewardState {
    pub copy: Key,
    pub reward: RewardItem,
    pub bal: Option<String>,
}

impl RewardState {
    /// Whether the balance must move for this record.
    pub fn moves(&self) -> bool {
        self.bal.as_deref() != Some(bucket(&self.reward).as_str())
    }
}

/// The balance attribute a reward adds to: fixed statuses by name, pending by approvable hour.
fn bucket(r: &RewardItem) -> String {
    crate::domain::reward::bucket(r.status, r.approvable_ns)
}

/// A transaction's rewards: their marks, then one balance update and one leaderboard score
/// update (at most 100 items).
const PER_TX: usize = super::super::MAX_TX_ITEMS - 2;

/// The leaderboard score attribute a reward adds to: its balance bucket and the month it was
/// created in (`approved@202612`, `p493812@202612`).
fn score_attr(r: &RewardItem) -> String {
    let month = Period::month_of(r.created_ns).digits().unwrap_or_default();
    format!("{}@{month}", bucket(r))
}

impl Store {
    /// Moves each reward's amount into the bucket of its status, once, on the shard `seed`
    /// picks.
    /// Returns how many marks it moved.
    pub async fn apply_reward_states(
        &self,
        rewards: &[RewardState],
        seed: &str,
    ) -> Result<u64, StoreError> {
        let shard = spread(seed, COUNT_SHARDS);
        let mut moved = 0;
        let mut per: BTreeMap<(String, String, String), Vec<&RewardState>> = BTreeMap::new();
        for r in rewards.iter().filter(|r| r.moves()) {
            let rw = &r.reward;
            per.entry((
                rw.network_id.clone(),
                rw.user.clone(),
                rw.program_id.clone(),
            ))
            .or_default()
            .push(r);
        }
        for ((net, user, prog), list) in per {
            let net =
                NetworkId::try_from(net.as_str()).map_err(|_| items::corrupt("reward network"))?;
            let prog =
                ProgramId::try_from(prog.as_str()).map_err(|_| items::corrupt("reward program"))?;
            let user = items::user_id(&user)?;
            for chunk in list.chunks(PER_TX) {
                moved += self
                    .apply_balance_chunk(&net, &prog, &user, chunk, shard)
                    .await?;
            }
        }
        Ok(moved)
    }

    async fn apply_balance_chunk(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        chunk: &[&RewardState],
        shard: usize,
    ) -> Result<u64, StoreError> {
        let live = std::sync::Mutex::new(chunk.to_vec());
        self.retrying(|_| {
            let live = &live;
            async move {
                let now: Vec<&RewardState> = live.lock().map(|l| l.clone()).unwrap_or_default();
                if now.is_empty() {
                    return Ok(Attempt::Done(0));
                }
                let mut tx = Vec::with_capacity(now.len() + 1);
                let mut sums: BTreeMap<String, i64> = BTreeMap::new();
                let mut scores: BTreeMap<String, i64> = BTreeMap::new();
                let mut as_of = 0u64;
                for r in &now {
                    let mut e = Expr::new();
                    let mark = e.n("bal");
                    let to = bucket(&r.reward);
                    let update = format!("SET {mark} = {}", e.v(s(to.as_str())));
                    let was = match &r.bal {
                        Some(b) => format!("{mark} = {}", e.v(s(b.as_str()))),
                        None => format!("attribute_not_exists({mark})"),
                    };
                    let cond = format!("attribute_exists({}) AND {was}", e.n(keys::PK));
                    tx.push(self.tx_update(&r.copy, &update, Some(&cond), &e)?);
                    let cents = r.reward.amount_usd_cents;
                    *sums.entry(to).or_default() += cents;
                    *scores.entry(score_attr(&r.reward)).or_default() += cents;
                    if let Some(from) = &r.bal {
                        *sums.entry(from.clone()).or_default() -= cents;
                        let month = Period::month_of(r.reward.created_ns).digits();
                        let was = format!("{from}@{}", month.unwrap_or_default());
                        *scores.entry(was).or_default() -= cents;
                    }
                    as_of = as_of.max(r.reward.created_ns);
                }
                let balance = keys::balance(net, user, shard);
                tx.push(self.shard_add(&balance, sums, as_of, user, false)?);
                let score = keys::reward_score(net, prog, user, shard);
                tx.push(self.shard_add(&score, scores, as_of, user, true)?);
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(now.len() as u64)),
                    Err(TxError::Cancelled(r)) => {
                        // A mark no longer as read: moved already, or by a newer record.
                        let done: Vec<usize> = (0..now.len())
                            .filter(|i| TxError::condition_failed(&r, *i))
                            .collect();
                        if let Ok(mut l) = live.lock() {
                            let keep: Vec<&RewardState> = now
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

impl Store {
    /// Moves each of these reward copies' amount into the bucket of its status where its mark
    /// says otherwise: what a lost or given-up stream record left undone. The marks'
    /// conditions make it safe beside the consumer. Returns the marks it moved.
    pub(crate) async fn repair_reward_copies(
        &self,
        scope: &crate::store::repair::Scope,
        copies: Vec<Item>,
    ) -> Result<u64, StoreError> {
        let mut states = Vec::new();
        for item in copies {
            let copy = super::super::table::item_key(&item)?;
            let bal = items::text(&item, "bal").map(str::to_owned);
            let reward: RewardItem = items::from_item(item)?;
            if scope
                .network
                .as_ref()
                .is_some_and(|n| n.as_str() != reward.network_id)
            {
                continue;
            }
            states.push(RewardState { copy, reward, bal });
        }
        if states.is_empty() {
            return Ok(0);
        }
        self.apply_reward_states(&states, "repair").await
    }
}
