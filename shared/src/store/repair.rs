//! Repair: the derived counts held against their source, the edges, and fixed where they
//! drifted (a stream record lost, expired, or given up as poison).
//!
//! The counts equal their ancestor's marks (`store::aggregate`), so a drift is a mark that
//! disagrees with its edge. The repair rereads what changed: the memberships whose placement
//! changed in a window (GSI2), each with its edges now and its recent past ones. Each fix is
//! one transaction that checks the edge, flips the mark and moves the count, the same step the
//! aggregator takes: whichever of the two comes first wins, the other finds the mark flipped
//! and adds nothing, so a repair racing the aggregator never makes a right count wrong.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::graph::{edge_key, MembershipItem};
use super::keys::Prefix;
use super::table::{item_key, SortKey};
use super::{items, keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use crate::clock;
use crate::domain::graph::{expected_edges, Edge};
use crate::domain::shards::{spread, COUNT_SHARDS};
use crate::domain::{Level, NetworkId, ProgramId, UserId};

/// What one repair found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    /// Memberships reread.
    pub members: u64,
    /// Edge marks checked.
    pub checked: u64,
    /// Edges the counts lacked, now counted.
    pub added: u64,
    /// Edges gone that the counts still held, now taken out.
    pub removed: u64,
    /// Disagreements that another writer settled first: not fixes.
    pub raced: u64,
    /// Count items rewritten from the marks (one DynamoDB refused to add to).
    pub rebuilt: u64,
    /// The edges fixed (`PK SK`), the first `FIXED_SHOWN`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_edges: Vec<String>,
}

/// How many fixed edges a report names.
pub const FIXED_SHOWN: usize = 100;

impl RepairReport {
    pub fn fixed(&self) -> u64 {
        self.added + self.removed + self.rebuilt
    }

    pub fn add(&mut self, o: &RepairReport) {
        self.members += o.members;
        self.checked += o.checked;
        self.added += o.added;
        self.removed += o.removed;
        self.raced += o.raced;
        self.rebuilt += o.rebuilt;
        let room = FIXED_SHOWN.saturating_sub(self.fixed_edges.len());
        self.fixed_edges
            .extend(o.fixed_edges.iter().take(room).cloned());
    }
}

/// Which memberships a repair covers.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub network: Option<NetworkId>,
    pub program: Option<ProgramId>,
}

impl Scope {
    fn covers(&self, net: &str, prog: &str) -> bool {
        self.network.as_ref().is_none_or(|n| n.as_str() == net)
            && self.program.as_ref().is_none_or(|p| p.as_str() == prog)
    }
}

/// How far the scheduled repair has read the changes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RepairState {
    /// Changes before this time (epoch ms) are repaired.
    pub through_ms: u64,
    #[serde(default)]
    pub last: RepairReport,
}

/// One disagreement to settle: the edge, its mark, and the count it moves.
struct Fix<'a> {
    net: &'a NetworkId,
    prog: &'a ProgramId,
    ancestor: &'a UserId,
    edge: &'a Key,
    mark: &'a Key,
    add: bool,
    deltas: [i64; 10],
    shard: usize,
}

enum Fixed {
    Applied,
    /// The edge or the mark had already changed: another writer settled it.
    Settled,
    /// The count item refused the addition.
    Refused,
}

/// `MEM#<net>#<prog>#<user>`: (net, prog). Ids hold no `#`.
fn member_scope(pk: &str) -> Option<(&str, &str)> {
    let rest = Prefix::Mem.strip(pk)?;
    let (net, rest) = rest.split_once('#')?;
    let (prog, _) = rest.split_once('#')?;
    Some((net, prog))
}

impl Store {
    /// Repairs the memberships whose placement changed in `[from_ms, to_ms)`.
    pub async fn repair_changes(
        &self,
        scope: &Scope,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<RepairReport, StoreError> {
        let mut report = RepairReport::default();
        if to_ms <= from_ms {
            return Ok(report);
        }
        let (lo, hi) = (
            keys::changes_sort(from_ms, ""),
            keys::changes_sort(to_ms - 1, "\u{10FFFF}"),
        );
        for hour in from_ms / 3_600_000..=(to_ms - 1) / 3_600_000 {
            for shard in 0..keys::CHANGE_SHARDS {
                let pk = keys::changes_partition(hour, shard);
                let sort = SortKey::Between(lo.clone(), hi.clone());
                let mut start = None;
                loop {
                    let (page, next) = self
                        .query_on(Some(keys::GSI2), &pk, &sort, start, Some(200))
                        .await?;
                    let members = page
                        .into_iter()
                        .filter_map(|i| self.member_in(scope, i).transpose())
                        .collect::<Result<Vec<_>, _>>()?;
                    report.add(&self.repair_members(&members).await?);
                    match next {
                        Some(k) => start = Some(k),
                        None => break,
                    }
                }
            }
        }
        Ok(report)
    }

    /// Repairs every membership in scope, read by a Scan of the whole table: for a table
    /// whose changes predate the change index, or a member moved more than `PAST_MAX` times
    /// in a few days. Marks with no membership to vouch for them are checked one by one.
    pub async fn repair_full(&self, scope: &Scope) -> Result<RepairReport, StoreError> {
        let mut members = Vec::new();
        let mut marks: Vec<Key> = Vec::new();
        for item in self.scan_all().await? {
            let pk = items::text(&item, keys::PK).unwrap_or_default();
            if member_scope(pk).is_some() {
                if let Some(m) = self.member_in(scope, item)? {
                    members.push(m);
                }
            } else if let Some(rest) = Prefix::Agg.strip(pk) {
                let mut parts = rest.splitn(3, '#');
                if let (Some(net), Some(prog)) = (parts.next(), parts.next()) {
                    if scope.covers(net, prog) {
                        marks.push(item_key(&item)?);
                    }
                }
            }
        }
        let mut report = RepairReport::default();
        let mut vouched: BTreeSet<Key> = BTreeSet::new();
        for chunk in members.chunks(200) {
            for (net, prog, m) in chunk {
                for e in self.member_edges(m)?.0 {
                    vouched.insert(edge_key(net, prog, &e));
                }
            }
            report.add(&self.repair_members(chunk).await?);
        }
        // A mark whose edge no membership holds: its edge is gone, unless it came back since.
        for mark in marks {
            let Some(edge) = keys::edge_of_counted(&mark) else {
                continue;
            };
            if vouched.contains(&edge) {
                continue;
            }
            let Some((net, prog, ancestor)) = keys::parse_downline_pk(&edge.0) else {
                continue;
            };
            let Some((level, _, _)) = keys::parse_edge_sk(&edge.1) else {
                continue;
            };
            let (Ok(net), Ok(prog), Ok(ancestor)) = (
                NetworkId::try_from(net),
                ProgramId::try_from(prog),
                UserId::from_stored(ancestor),
            ) else {
                continue;
            };
            report.checked += 1;
            self.fix(&net, &prog, &ancestor, level, &edge, false, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// A membership item in scope, as (network, program, item).
    fn member_in(
        &self,
        scope: &Scope,
        item: Item,
    ) -> Result<Option<(NetworkId, ProgramId, MembershipItem)>, StoreError> {
        let pk = items::text(&item, keys::PK).unwrap_or_default().to_owned();
        let Some((net, prog)) = member_scope(&pk) else {
            return Ok(None);
        };
        if !scope.covers(net, prog) {
            return Ok(None);
        }
        let (net, prog) = (
            NetworkId::try_from(net).map_err(|_| items::corrupt(&pk))?,
            ProgramId::try_from(prog).map_err(|_| items::corrupt(&pk))?,
        );
        Ok(Some((net, prog, items::from_item(item)?)))
    }

    /// A member's edges now, and its past ones it no longer has.
    fn member_edges(&self, m: &MembershipItem) -> Result<(Vec<Edge>, Vec<Edge>), StoreError> {
        let ids = |v: &[String]| -> Result<Vec<UserId>, StoreError> {
            v.iter().map(|u| items::user_id(u)).collect()
        };
        let user = items::user_id(&m.user)?;
        let now = ids(&m.upline)?;
        let past = m
            .past
            .iter()
            .map(|p| Ok((ids(&p.upline)?, p.ns)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(expected_edges(&user, (&now, m.connected_ns), &past))
    }

    /// Checks each member's marks against what its placements say, and fixes what differs.
    async fn repair_members(
        &self,
        members: &[(NetworkId, ProgramId, MembershipItem)],
    ) -> Result<RepairReport, StoreError> {
        let mut report = RepairReport {
            members: members.len() as u64,
            ..RepairReport::default()
        };
        // (edge key, network, program, edge, whether its mark must be present)
        let mut wanted: Vec<(Key, &NetworkId, &ProgramId, Edge, bool)> = Vec::new();
        for (net, prog, m) in members {
            let (present, gone) = self.member_edges(m)?;
            for (e, want) in present
                .into_iter()
                .map(|e| (e, true))
                .chain(gone.into_iter().map(|e| (e, false)))
            {
                wanted.push((edge_key(net, prog, &e), net, prog, e, want));
            }
        }
        let marks: Vec<Key> = wanted
            .iter()
            .filter_map(|w| keys::counted_edge(&w.0))
            .collect();
        let got = self.batch_get_with(&marks, false).await?;
        for (edge, net, prog, e, want) in &wanted {
            report.checked += 1;
            let Some(mark) = keys::counted_edge(edge) else {
                continue;
            };
            if got.contains_key(&mark) != *want {
                self.fix(net, prog, &e.ancestor, e.level, edge, *want, &mut report)
                    .await?;
            }
        }
        Ok(report)
    }

    /// Counts the edge `edge` (`add`) or takes it out, if the edge and its mark still
    /// disagree: one transaction with the edge's check, the mark and the count.
    #[allow(clippy::too_many_arguments)]
    async fn fix(
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
        let mark = keys::counted_edge(edge)
            .ok_or_else(|| StoreError::Corrupt(format!("not an edge: {}", edge.0)))?;
        let mut deltas = [0i64; 10];
        deltas[level as usize - 1] = if add { 1 } else { -1 };
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
            let count_keys = super::counts::count_keys(net, prog, user);
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
            let mut levels = [0u64; 10];
            for part in keys::counted_partitions(net, prog, user) {
                for item in self.query_partition(false, &part, None).await? {
                    let sk = items::text(&item, keys::SK).unwrap_or_default();
                    if let Some((l, _, _)) = keys::parse_edge_sk(sk) {
                        if (1..=Level::MAX.get()).contains(&l) {
                            levels[l as usize - 1] += 1;
                        }
                    }
                }
            }
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

    /// The scheduled repair's progress.
    pub async fn repair_state(&self) -> Result<Option<RepairState>, StoreError> {
        match self.get(&keys::repair_state()).await? {
            Some(item) => Ok(Some(items::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Records the scheduled repair's progress; a slower run never moves it back.
    pub async fn save_repair_state(&self, state: &RepairState) -> Result<(), StoreError> {
        let key = keys::repair_state();
        let mut e = Expr::new();
        let cond = format!(
            "attribute_not_exists({}) OR {} < {}",
            e.n(keys::PK),
            e.n("through_ms"),
            e.v(n(state.through_ms))
        );
        let item = items::with_key(items::to_item(state)?, &key);
        match self
            .transact(vec![self.tx_put(item, Some(&cond), &e, false)?])
            .await
        {
            Ok(()) | Err(TxError::Cancelled(_)) => Ok(()),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}

/// A batch a local mapping gave up: a line to show, and the keys (`PK SK`) of its records.
#[derive(Clone, Debug)]
pub struct GivenUp {
    pub line: String,
    pub keys: Vec<String>,
}

impl Store {
    /// The batches the local mappings gave up for `function` (`STREAMFAIL#`).
    pub async fn stream_failures(&self, function: &str) -> Result<Vec<GivenUp>, StoreError> {
        let items = self
            .query_partition(false, &keys::stream_failures_partition(function), None)
            .await?;
        Ok(items
            .iter()
            .map(|i| {
                let records: Vec<serde_json::Value> = items::text(i, "records")
                    .and_then(|r| serde_json::from_str(r).ok())
                    .unwrap_or_default();
                let key = |r: &serde_json::Value, a: &str| {
                    r["dynamodb"]["Keys"][a]["S"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                };
                GivenUp {
                    line: format!(
                        "{} records {}..{} after {} attempts: {}",
                        items::num(i, "batch_size"),
                        items::text(i, "start_sequence_number").unwrap_or_default(),
                        items::text(i, "end_sequence_number").unwrap_or_default(),
                        items::num(i, "attempts"),
                        items::text(i, "reason").unwrap_or_default()
                    ),
                    keys: records
                        .iter()
                        .map(|r| format!("{} {}", key(r, "PK"), key(r, "SK")))
                        .collect(),
                }
            })
            .collect())
    }
}
