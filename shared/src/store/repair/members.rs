//! Which edges a member's placements say the counts hold, checked against the marks: the
//! memberships that changed (GSI2), or every one (`--full`).

use std::collections::BTreeSet;

use super::{RepairReport, Scope};
use crate::domain::graph::{expected_edges, Edge};
use crate::domain::{NetworkId, ProgramId, UserId};
use crate::store::graph::{edge_key, MembershipItem};
use crate::store::keys::Prefix;
use crate::store::table::{item_key, SortKey};
use crate::store::{items, keys, Item, Key, Store, StoreError};

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
                    let (copies, page): (Vec<Item>, Vec<Item>) = page.into_iter().partition(|i| {
                        Prefix::of(items::text(i, keys::PK).unwrap_or_default())
                            == Some(Prefix::URwd)
                    });
                    let members = page
                        .into_iter()
                        .filter_map(|i| self.member_in(scope, i).transpose())
                        .collect::<Result<Vec<_>, _>>()?;
                    report.add(&self.repair_members(&members).await?);
                    report.balances += self.repair_reward_copies(scope, copies).await?;
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
    /// in a few days. Marks with no membership to vouch for them are checked one by one. Then
    /// the balances, from every reward copy's mark.
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
        // Balances are network-wide: a program's scope does not narrow them.
        let copies = self
            .scan_all()
            .await?
            .into_iter()
            .filter(|i| {
                Prefix::of(items::text(i, keys::PK).unwrap_or_default()) == Some(Prefix::URwd)
            })
            .collect();
        report.balances = self.repair_reward_copies(scope, copies).await?;
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
}
