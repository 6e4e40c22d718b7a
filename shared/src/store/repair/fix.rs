//! One fix: the edge checked, its mark flipped and its count moved in one transaction, as the
//! aggregator does; and a count item rewritten from the marks when it refuses additions.

use super::{RepairReport, FIXED_SHOWN};
use crate::clock;
use crate::domain::shards::{spread, COUNT_SHARDS};
use crate::domain::{Level, NetworkId, ProgramId, UserId};
use crate::store::aggregate::CountDeltas;
use crate::store::{items, keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};

/// One disagreement to settle: the edge, its mark, and the count it moves.
struct Fix<'a> {
    net: &'a NetworkId,
    prog: &'a ProgramId,
    ancestor: &'a UserId,
    edge: &'a Key,
    mark: &'a Key,
    add: bool,
    deltas: CountDeltas,
    shard: usize,
}

enum Fixed {
    Applied,
    /// The edge or the mark had already changed: another writer settled it.
    Settled,
    /// The count item refused the addition.
    Refused,
}

impl Store {
    /// Counts the edge `edge` (`add`) or takes it out, if the edge and its mark still
    /// disagree: one transaction with the edge's check, the mark and the count.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fix(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
        level: u8,
        edge: &Key,
        add: bool,
        report: &mut RepairReport,
    ) -> Result<(), StoreError> {
        if !(1..=Level::MAX.get()).contains(&level) {
            return Ok(());
        }
        let not_edge = || StoreError::Corrupt(format!("not an edge: {}", edge.0));
        let mark = keys::counted_edge(edge).ok_or_else(not_edge)?;
        let (_, edge_ns, _) = keys::parse_edge_sk(&edge.1).ok_or_else(not_edge)?;
        let mut deltas = CountDeltas::default();
        deltas.add(level, edge_ns, if add { 1 } else { -1 });
        let fix = Fix {
            net,
            prog,
            ancestor,
            edge,
            mark: &mark,
            add,
            deltas,
            shard: spread(&edge.1, COUNT_SHARDS),
        };
        let mut outcome = self.fix_retrying(&fix).await?;
        if let Fixed::Refused = outcome {
            // The count item will not take an addition: rewrite it from the marks, then fix.
            if self.rebuild_counts(net, prog, ancestor).await? {
                report.rebuilt += 1;
            }
            outcome = self.fix_retrying(&fix).await?;
        }
        match outcome {
            Fixed::Applied => {
                tracing::warn!(edge = ?edge, add, "repair: the counts disagreed with an edge; fixed");
                if report.fixed_edges.len() < FIXED_SHOWN {
                    report.fixed_edges.push(format!("{} {}", edge.0, edge.1));
                }
                if add {
                    report.added += 1;
                } else {
                    report.removed += 1;
                }
            }
            Fixed::Settled => report.raced += 1,
            Fixed::Refused => {
                return Err(StoreError::Corrupt(format!(
                    "counts of {ancestor} refuse every write"
                )))
            }
        }
        Ok(())
    }

    /// One fix's transaction, tried again while it conflicts.
    async fn fix_retrying(&self, f: &Fix<'_>) -> Result<Fixed, StoreError> {
        self.retrying(|_| async {
            let mut e = Expr::new();
            let cond = if f.add {
                format!("attribute_exists({})", e.n(keys::PK))
            } else {
                format!("attribute_not_exists({})", e.n(keys::PK))
            };
            let tx = vec![
                self.tx_check(f.edge, &cond, &e)?,
                self.mark_change(f.mark, f.add)?,
                self.count_add(
                    f.net,
                    f.prog,
                    f.ancestor,
                    f.shard,
                    &f.deltas,
                    clock::now().ns,
                )?,
            ];
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(Fixed::Applied)),
                Err(TxError::Cancelled(r))
                    if TxError::condition_failed(&r, 0) || TxError::condition_failed(&r, 1) =>
                {
                    Ok(Attempt::Done(Fixed::Settled))
                }
                Err(TxError::Cancelled(r))
                    if r.get(2).and_then(|x| x.code()) == Some("ValidationError") =>
                {
                    Ok(Attempt::Done(Fixed::Refused))
                }
                Err(TxError::Store(StoreError::Other(_))) => Ok(Attempt::Done(Fixed::Refused)),
                Err(e) => e.retry(),
            }
        })
        .await
    }

    /// Rewrites `user`'s count items from its marks, if none of them moved meanwhile (each
    /// item's version `v` is checked). Returns whether it wrote.
    pub async fn rebuild_counts(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
    ) -> Result<bool, StoreError> {
        for _ in 0..5 {
            // The versions first: a mark that moves after this read moves a version too.
            let count_keys = crate::store::counts::count_keys(net, prog, user);
            let got = self.batch_get(&count_keys).await?;
            // Per shard: absent, or present with its version (none on an item older than them).
            let versions: Vec<Option<Option<u64>>> = count_keys
                .iter()
                .map(|k| {
                    got.get(k).map(|i| match i.get("v") {
                        Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.parse().ok(),
                        _ => None,
                    })
                })
                .collect();
            let mut counted = CountDeltas::default();
            for part in keys::counted_partitions(net, prog, user) {
                for item in self.query_partition(false, &part, None).await? {
                    let sk = items::text(&item, keys::SK).unwrap_or_default();
                    if let Some((l, ns, _)) = keys::parse_edge_sk(sk) {
                        if (1..=Level::MAX.get()).contains(&l) {
                            counted.add(l, ns, 1);
                        }
                    }
                }
            }
            let levels = counted.levels;
            let mut tx = Vec::with_capacity(COUNT_SHARDS);
            for (shard, (key, seen)) in count_keys.iter().zip(&versions).enumerate() {
                let mut item: Item = Item::from([
                    ("user".to_owned(), s(user.as_str())),
                    ("v".to_owned(), n(seen.flatten().unwrap_or(0) + 1)),
                    ("as_of_ns".to_owned(), n(clock::now().ns)),
                ]);
                for (i, c) in levels.iter().enumerate() {
                    item.insert(format!("c{}", i + 1), n(if shard == 0 { *c } else { 0 }));
                }
                if shard == 0 {
                    for (m, c) in &counted.months {
                        item.insert(m.clone(), n(*c));
                    }
                }
                let mut e = Expr::new();
                let cond = match seen {
                    None => format!("attribute_not_exists({})", e.n(keys::PK)),
                    Some(None) => format!(
                        "attribute_exists({}) AND attribute_not_exists({})",
                        e.n(keys::PK),
                        e.n("v")
                    ),
                    Some(Some(v)) => format!("{} = {}", e.n("v"), e.v(n(*v))),
                };
                tx.push(self.tx_put(items::with_key(item, key), Some(&cond), &e, false)?);
            }
            match self.transact(tx).await {
                Ok(()) => {
                    tracing::warn!(user = %user, ?levels, "repair: counts rewritten from the marks");
                    return Ok(true);
                }
                Err(TxError::Cancelled(_)) => continue,
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        Ok(false)
    }
}
