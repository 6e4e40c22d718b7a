//! Per-level downline counts, derived from the committed edges by the stream aggregator and
//! kept off the signup path. Each member's counts live in `COUNT_SHARDS` items summed on read;
//! a batch of stream records is applied once, however often the stream delivers it.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{items, keys, n, s, Expr, Item, Key, Store, StoreError, TxError, MAX_TX_ITEMS};
use crate::domain::shards::{spread, COUNT_SHARDS};
use crate::domain::{Level, NetworkId, ProgramId, UserId};

/// How long a batch marker is kept: longer than a stream keeps its records.
const MARKER_TTL_SECS: u64 = 2 * 24 * 3600;

/// A member's downline counts, as settled so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub levels: [u64; Level::MAX.depth()],
    /// Commit time of the newest connection counted, in ns.
    pub as_of_ns: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct CountItem {
    #[serde(default)]
    c1: i64,
    #[serde(default)]
    c2: i64,
    #[serde(default)]
    c3: i64,
    #[serde(default)]
    c4: i64,
    #[serde(default)]
    c5: i64,
    #[serde(default)]
    c6: i64,
    #[serde(default)]
    c7: i64,
    #[serde(default)]
    c8: i64,
    #[serde(default)]
    c9: i64,
    #[serde(default)]
    c10: i64,
    #[serde(default)]
    as_of_ns: Option<u64>,
}

impl CountItem {
    fn levels(&self) -> [i64; 10] {
        [
            self.c1, self.c2, self.c3, self.c4, self.c5, self.c6, self.c7, self.c8, self.c9,
            self.c10,
        ]
    }
}

/// One edge that appeared (+1) or went (-1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeChange {
    pub network: NetworkId,
    pub program: ProgramId,
    pub ancestor: UserId,
    pub level: u8,
    pub delta: i64,
    /// When the change was committed, in ns.
    pub at_ns: u64,
}

/// The identity of a stream batch: the same batch redelivered has the same one.
#[derive(Clone, Debug)]
pub struct BatchId {
    pub first_event: String,
    pub last_event: String,
}

pub fn count_keys(net: &NetworkId, prog: &ProgramId, user: &UserId) -> Vec<Key> {
    (0..COUNT_SHARDS)
        .map(|c| keys::counts(net, prog, user, c))
        .collect()
}

/// The counts among items read with `count_keys`.
pub fn counts_from(got: &mut HashMap<Key, Item>, keys: &[Key]) -> Result<Counts, StoreError> {
    let mut out = Counts::default();
    let mut sum = [0i64; 10];
    for k in keys {
        if let Some(item) = got.remove(k) {
            let c: CountItem = items::from_item(item)?;
            for (total, v) in sum.iter_mut().zip(c.levels()) {
                *total += v;
            }
            out.as_of_ns = out.as_of_ns.max(c.as_of_ns);
        }
    }
    for (o, v) in out.levels.iter_mut().zip(sum) {
        *o = v.max(0) as u64;
    }
    Ok(out)
}

impl Store {
    /// Adds a batch's edge changes to the counts, in transactions of up to 99 count items
    /// plus a marker of the batch: a redelivered batch finds its markers and adds nothing.
    pub async fn apply_edge_changes(
        &self,
        changes: &[EdgeChange],
        batch: &BatchId,
    ) -> Result<(), StoreError> {
        let mut per: BTreeMap<(NetworkId, ProgramId, UserId), ([i64; 10], u64)> = BTreeMap::new();
        for c in changes
            .iter()
            .filter(|c| (1..=Level::MAX.get()).contains(&c.level))
        {
            let e = per
                .entry((c.network.clone(), c.program.clone(), c.ancestor.clone()))
                .or_default();
            e.0[c.level as usize - 1] += c.delta;
            e.1 = e.1.max(c.at_ns);
        }
        let shard = spread(&batch.first_event, COUNT_SHARDS);
        let entries: Vec<_> = per.into_iter().collect();
        for (chunk_no, chunk) in entries.chunks(MAX_TX_ITEMS - 1).enumerate() {
            self.retrying(|_| async move {
                let mut tx = Vec::with_capacity(chunk.len() + 1);
                let mut e = Expr::new();
                let absent = format!("attribute_not_exists({})", e.n(keys::PK));
                let expires = super::jobs::now_ms() / 1000 + MARKER_TTL_SECS;
                let marker = items::with_key(
                    Item::from([(keys::EXPIRES_AT.to_owned(), n(expires))]),
                    &keys::aggregate_batch(&batch.first_event, &batch.last_event, chunk_no),
                );
                tx.push(self.tx_put(marker, Some(&absent), &e, false)?);
                for ((net, prog, ancestor), (deltas, at)) in chunk {
                    let key = keys::counts(net, prog, ancestor, shard);
                    let mut e = Expr::new();
                    let adds: Vec<String> = deltas
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| **d != 0)
                        .map(|(i, d)| format!("{} {}", e.n(&format!("c{}", i + 1)), e.v(n(*d))))
                        .collect();
                    let mut update = format!(
                        "SET {} = {}, {} = {}",
                        e.n("as_of_ns"),
                        e.v(n(*at)),
                        e.n("user"),
                        e.v(s(ancestor.as_str()))
                    );
                    if !adds.is_empty() {
                        update.push_str(&format!(" ADD {}", adds.join(", ")));
                    }
                    tx.push(self.tx_update(&key, &update, None, &e)?);
                }
                match self.transact(tx).await {
                    Ok(()) => Ok(super::Attempt::Done(())),
                    // Applied before: a redelivery.
                    Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                        Ok(super::Attempt::Done(()))
                    }
                    Err(e) => e.retry(),
                }
            })
            .await?;
        }
        Ok(())
    }
}
