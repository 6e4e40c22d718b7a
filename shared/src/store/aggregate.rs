//! The aggregator's writes. Each edge that appears or goes moves its ancestor's counts once:
//! the edge's mark (`keys::counted_edge`) is present exactly while the edge is counted, and a
//! mark changes only in the transaction that moves its count. A record applied twice, a batch
//! split another way on redelivery, or a repair racing the aggregator finds the mark as the
//! first writer left it and adds nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{items, keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use crate::domain::leaderboard::Period;
use crate::domain::shards::{spread, COUNT_SHARDS};
use crate::domain::{Level, NetworkId, ProgramId, UserId};

/// One edge that appeared (+1) or went (-1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeChange {
    /// The edge's own key.
    pub edge: Key,
    pub network: NetworkId,
    pub program: ProgramId,
    pub ancestor: UserId,
    pub level: u8,
    pub delta: i64,
    /// When the change was committed, in ns.
    pub at_ns: u64,
}

/// What one count update adds: per level, and the direct referees per month of connection
/// (the monthly leaderboard's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountDeltas {
    pub levels: [i64; 10],
    pub months: BTreeMap<String, i64>,
}

impl CountDeltas {
    /// An edge at `level` whose key says it was connected at `edge_ns` came (+1) or went (-1).
    pub fn add(&mut self, level: u8, edge_ns: u64, delta: i64) {
        if let Some(l) = self.levels.get_mut(usize::from(level).wrapping_sub(1)) {
            *l += delta;
        }
        if level == 1 {
            let attr = Period::month_of(edge_ns).referrals_attr();
            *self.months.entry(attr).or_default() += delta;
        }
    }
}

/// A transaction's items: each change's mark, then one count update per ancestor.
const ITEMS_PER_TX: usize = super::MAX_TX_ITEMS;

type Ancestor = (NetworkId, ProgramId, UserId);

fn ancestor(c: &EdgeChange) -> Ancestor {
    (c.network.clone(), c.program.clone(), c.ancestor.clone())
}

/// What one transaction of changes came to.
enum Outcome {
    /// Applied, or found applied before.
    Done,
    /// DynamoDB refused the transaction as a whole: each ancestor's changes go alone.
    Split,
}

impl Store {
    /// Applies `changes` in order, the count updates on the shard `seed` picks. Returns the
    /// changes that can never be applied (a count item DynamoDB refuses to add to); a
    /// transient failure is an error, and applying the same changes again is safe.
    pub async fn apply_edge_changes(
        &self,
        changes: &[EdgeChange],
        seed: &str,
    ) -> Result<Vec<usize>, StoreError> {
        let shard = spread(seed, COUNT_SHARDS);
        // A transaction may name an item once: an edge's second change in the batch goes in
        // the next round, after its first has committed.
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let mut seen: HashMap<&Key, usize> = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            if !(1..=Level::MAX.get()).contains(&c.level) || c.delta == 0 {
                continue;
            }
            let r = seen.entry(&c.edge).or_insert(0);
            if rounds.len() <= *r {
                rounds.push(Vec::new());
            }
            rounds[*r].push(i);
            *r += 1;
        }
        let mut failed = Vec::new();
        for round in rounds {
            for chunk in chunks(changes, &round) {
                if let Outcome::Split = self
                    .apply_chunk(changes, &chunk, shard, &mut failed)
                    .await?
                {
                    let mut groups: BTreeMap<Ancestor, Vec<usize>> = BTreeMap::new();
                    for i in chunk {
                        groups.entry(ancestor(&changes[i])).or_default().push(i);
                    }
                    for g in groups.into_values() {
                        if let Outcome::Split =
                            self.apply_chunk(changes, &g, shard, &mut failed).await?
                        {
                            failed.extend(g);
                        }
                    }
                }
            }
        }
        failed.sort_unstable();
        Ok(failed)
    }

    async fn apply_chunk(
        &self,
        changes: &[EdgeChange],
        chunk: &[usize],
        shard: usize,
        failed: &mut Vec<usize>,
    ) -> Result<Outcome, StoreError> {
        let live = Mutex::new(chunk.to_vec());
        let refused = Mutex::new(Vec::new());
        let out = self
            .retrying(|_| {
                let (live, refused) = (&live, &refused);
                async move {
                    let now: Vec<usize> = live.lock().map(|l| l.clone()).unwrap_or_default();
                    if now.is_empty() {
                        return Ok(Attempt::Done(Outcome::Done));
                    }
                    let (tx, counted) = self.chunk_items(changes, &now, shard)?;
                    match self.transact(tx).await {
                        Ok(()) => Ok(Attempt::Done(Outcome::Done)),
                        Err(TxError::Cancelled(r)) => {
                            // A mark already as this change leaves it: applied before.
                            let mut drop: Vec<usize> = now
                                .iter()
                                .enumerate()
                                .filter(|(pos, _)| TxError::condition_failed(&r, *pos))
                                .map(|(_, i)| *i)
                                .collect();
                            // A count item DynamoDB will not add to: its changes never apply.
                            for (pos, a) in counted.iter().enumerate() {
                                let code = r.get(now.len() + pos).and_then(|x| x.code());
                                if code == Some("ValidationError") {
                                    let bad: Vec<usize> = now
                                        .iter()
                                        .copied()
                                        .filter(|i| ancestor(&changes[*i]) == *a)
                                        .collect();
                                    if let Ok(mut f) = refused.lock() {
                                        f.extend(bad.iter().copied());
                                    }
                                    drop.extend(bad);
                                }
                            }
                            if let Ok(mut l) = live.lock() {
                                l.retain(|i| !drop.contains(i));
                            }
                            Ok(Attempt::Retry)
                        }
                        Err(TxError::Store(StoreError::Other(e))) => {
                            tracing::warn!(error = %e, changes = now.len(), "counts refused; each ancestor alone");
                            if now.iter().all(|i| ancestor(&changes[*i]) == ancestor(&changes[now[0]])) {
                                if let Ok(mut f) = refused.lock() {
                                    f.extend(now.iter().copied());
                                }
                                return Ok(Attempt::Done(Outcome::Done));
                            }
                            Ok(Attempt::Done(Outcome::Split))
                        }
                        Err(e) => e.retry(),
                    }
                }
            })
            .await?;
        failed.extend(refused.into_inner().unwrap_or_default());
        Ok(out)
    }

    /// The marks of `now`'s changes, in order, then each ancestor's count update.
    fn chunk_items(
        &self,
        changes: &[EdgeChange],
        now: &[usize],
        shard: usize,
    ) -> Result<
        (
            Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
            Vec<Ancestor>,
        ),
        StoreError,
    > {
        let mut tx = Vec::with_capacity(now.len() + 1);
        let mut per: BTreeMap<Ancestor, (CountDeltas, u64)> = BTreeMap::new();
        for &i in now {
            let c = &changes[i];
            let not_edge = || StoreError::Corrupt(format!("not an edge: {}", c.edge.0));
            let mark = keys::counted_edge(&c.edge).ok_or_else(not_edge)?;
            let (_, edge_ns, _) = keys::parse_edge_sk(&c.edge.1).ok_or_else(not_edge)?;
            tx.push(self.mark_change(&mark, c.delta > 0)?);
            let e = per.entry(ancestor(c)).or_default();
            e.0.add(c.level, edge_ns, c.delta);
            e.1 = e.1.max(c.at_ns);
        }
        let mut counted = Vec::with_capacity(per.len());
        for ((net, prog, user), (deltas, at)) in per {
            tx.push(self.count_add(&net, &prog, &user, shard, &deltas, at)?);
            counted.push((net, prog, user));
        }
        Ok((tx, counted))
    }

    /// Puts a mark that must be absent (`present`), or deletes one that must be there.
    pub(crate) fn mark_change(
        &self,
        mark: &Key,
        present: bool,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        if present {
            let cond = format!("attribute_not_exists({})", e.n(keys::PK));
            self.tx_put(items::with_key(Item::new(), mark), Some(&cond), &e, false)
        } else {
            let cond = format!("attribute_exists({})", e.n(keys::PK));
            self.tx_delete(mark, Some(&cond), &e)
        }
    }

    /// Adds `deltas` to one count shard of `user`, and moves its version on.
    pub(crate) fn count_add(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        shard: usize,
        deltas: &CountDeltas,
        at_ns: u64,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let levels = deltas
            .levels
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("c{}", i + 1), *d));
        let months = deltas.months.iter().map(|(m, d)| (m.clone(), *d));
        let key = keys::counts(net, prog, user, shard);
        self.shard_add(&key, levels.chain(months), at_ns, user, true)
    }

    /// Adds numbers to one shard of a member's sums (counts, balance, scores) and sets its
    /// `as_of_ns` and `user`; a `versioned` shard's version `v` moves on too.
    pub(crate) fn shard_add(
        &self,
        key: &Key,
        adds: impl IntoIterator<Item = (String, i64)>,
        as_of_ns: u64,
        user: &UserId,
        versioned: bool,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let mut adds: Vec<String> = adds
            .into_iter()
            .filter(|(_, d)| *d != 0)
            .map(|(attr, d)| format!("{} {}", e.n(&attr), e.v(n(d))))
            .collect();
        if versioned {
            adds.push(format!("{} {}", e.n("v"), e.v(n(1))));
        }
        let mut update = format!(
            "SET {} = {}, {} = {}",
            e.n("as_of_ns"),
            e.v(n(as_of_ns)),
            e.n("user"),
            e.v(s(user.as_str())),
        );
        if !adds.is_empty() {
            update.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        self.tx_update(key, &update, None, &e)
    }
}

/// `round`'s changes in transactions of at most `ITEMS_PER_TX` items (marks and counts).
fn chunks(changes: &[EdgeChange], round: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut ancestors: Vec<Ancestor> = Vec::new();
    for &i in round {
        let a = ancestor(&changes[i]);
        let new = !ancestors.contains(&a);
        if cur.len() + ancestors.len() + 1 + usize::from(new) > ITEMS_PER_TX {
            out.push(std::mem::take(&mut cur));
            ancestors.clear();
        }
        if !ancestors.contains(&a) {
            ancestors.push(a);
        }
        cur.push(i);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(ancestor: &str, member: &str, delta: i64) -> EdgeChange {
        EdgeChange {
            edge: (
                format!("DOWN#n#p#{ancestor}#0"),
                format!("01#{:020}#{member}", 1),
            ),
            network: NetworkId::try_from("n").unwrap(),
            program: ProgramId::try_from("p").unwrap(),
            ancestor: UserId::from_stored(&format!("{ancestor}@x.io")).unwrap(),
            level: 1,
            delta,
            at_ns: 1,
        }
    }

    #[test]
    fn a_transaction_never_holds_more_than_its_limit() {
        // 150 edges under 60 ancestors: marks and count updates together stay within 100.
        let changes: Vec<EdgeChange> = (0..150)
            .map(|i| change(&format!("a{}", i % 60), &format!("m{i}"), 1))
            .collect();
        let round: Vec<usize> = (0..changes.len()).collect();
        let got = chunks(&changes, &round);
        assert_eq!(got.iter().map(Vec::len).sum::<usize>(), 150);
        for c in &got {
            let ancestors: std::collections::BTreeSet<_> =
                c.iter().map(|i| ancestor(&changes[*i])).collect();
            assert!(
                c.len() + ancestors.len() <= ITEMS_PER_TX,
                "{} + {}",
                c.len(),
                ancestors.len()
            );
        }
        // one ancestor: 99 marks and its count
        let one: Vec<EdgeChange> = (0..200).map(|i| change("a", &format!("m{i}"), 1)).collect();
        let got = chunks(&one, &(0..200).collect::<Vec<_>>());
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [99, 99, 2]);
    }
}
