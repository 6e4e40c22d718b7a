//! Leaderboards: one item per (program, measure, period) holding its top list, merged after
//! each aggregator batch from the members' count shards. Nothing on the signup path writes
//! here, and a page of a leaderboard is one read.
//!
//! Each entry keeps the sum of the member's count-shard versions it was read at: a merge that
//! read older counts than the entry's never replaces it, so two batches merging the same
//! member in either order leave the newer value.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::counts::count_keys;
use super::{items, keys, n, Attempt, Expr, Item, Store, StoreError};
use crate::domain::leaderboard::{merge_versioned, By, Period, KEEP};
use crate::domain::{NetworkId, ProgramId, UserId};

/// One ranked member as stored.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub u: String,
    pub v: i64,
    /// The member's count-shard versions summed, when this value was read.
    pub ver: u64,
}

/// A leaderboard item.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Board {
    /// Highest value first, ties by user id; values above 0 only.
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// Bumped by every merge: the conditional put's guard.
    #[serde(default)]
    pub version: u64,
    /// The newest connection its values include, in ns.
    #[serde(default)]
    pub as_of_ns: Option<u64>,
}

/// Per program, the members whose values changed and the months they changed in.
pub type Touched = BTreeMap<(NetworkId, ProgramId), (BTreeSet<UserId>, BTreeSet<Period>)>;

/// What one member's count shards say.
struct Read {
    values: HashMap<String, i64>,
    ver: u64,
    as_of_ns: Option<u64>,
}

/// `m<YYYYMM>`: a month's direct referees.
fn is_month_attr(a: &str) -> bool {
    a.len() == 7 && a.starts_with('m') && a[1..].bytes().all(|b| b.is_ascii_digit())
}

fn read_counts(got: &mut HashMap<super::Key, Item>, shard_keys: &[super::Key]) -> Read {
    let mut out = Read {
        values: HashMap::new(),
        ver: 0,
        as_of_ns: None,
    };
    for k in shard_keys {
        let Some(item) = got.remove(k) else { continue };
        for (attr, v) in &item {
            let numeric = || match v {
                aws_sdk_dynamodb::types::AttributeValue::N(x) => x.parse::<i64>().ok(),
                _ => None,
            };
            match attr.as_str() {
                "v" => out.ver += numeric().unwrap_or(0).max(0) as u64,
                "as_of_ns" => {
                    let at = numeric().map(|x| x.max(0) as u64);
                    out.as_of_ns = out.as_of_ns.max(at);
                }
                a if a == "c1" || is_month_attr(a) => {
                    *out.values.entry(a.to_owned()).or_default() += numeric().unwrap_or(0);
                }
                _ => {}
            }
        }
    }
    out
}

/// What GET Leaderboard reads in its one round trip.
pub struct BoardHead {
    pub auth: Result<(), super::api_keys::AuthFailure>,
    pub program: Option<crate::domain::Program>,
    pub board: Board,
}

impl Store {
    /// The key, the program and the leaderboard in one BatchGetItem.
    pub(crate) async fn board_head(
        &self,
        probe: &crate::store::api_keys::KeyProbe,
        net: &NetworkId,
        prog: &ProgramId,
        by: By,
        period: Period,
    ) -> Result<BoardHead, StoreError> {
        let k_program = keys::program(net, prog);
        let k_board = Store::board_key(net, prog, by, period);
        let mut got = self
            .batch_get(&[probe.key.clone(), k_program.clone(), k_board.clone()])
            .await?;
        Ok(BoardHead {
            auth: super::api_keys::check_key(got.get(&probe.key), net),
            program: got.remove(&k_program).map(items::program).transpose()?,
            board: got
                .remove(&k_board)
                .map(items::from_item)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// The key of the leaderboard of `by` in `period`.
    pub(crate) fn board_key(
        net: &NetworkId,
        prog: &ProgramId,
        by: By,
        period: Period,
    ) -> super::Key {
        keys::board(net, prog, by.as_str(), &period.to_string())
    }

    /// Merges the referral counts of `touched` members into their program's leaderboards: the
    /// whole history's, and each month's in `months` (count attributes `m<YYYYMM>`).
    pub async fn merge_referral_boards(&self, touched: &Touched) -> Result<(), StoreError> {
        for ((net, prog), (users, months)) in touched {
            let per_user: Vec<(&UserId, Vec<super::Key>)> = users
                .iter()
                .map(|u| (u, count_keys(net, prog, u)))
                .collect();
            let wanted: Vec<super::Key> = per_user
                .iter()
                .flat_map(|(_, k)| k.iter().cloned())
                .collect();
            let mut got = self.batch_get_with(&wanted, true).await?;
            let reads: Vec<(&UserId, Read)> = per_user
                .iter()
                .map(|(u, k)| (*u, read_counts(&mut got, k)))
                .collect();
            let as_of = reads.iter().filter_map(|(_, r)| r.as_of_ns).max();
            for period in std::iter::once(Period::All).chain(months.iter().copied()) {
                let attr = period.referrals_attr();
                let changed: BTreeMap<String, (i64, u64)> = reads
                    .iter()
                    .map(|(u, r)| {
                        let v = r.values.get(&attr).copied().unwrap_or(0);
                        (u.as_str().to_owned(), (v, r.ver))
                    })
                    .collect();
                self.merge_board(net, prog, By::Referrals, period, &changed, as_of)
                    .await?;
            }
        }
        Ok(())
    }

    /// One leaderboard with `changed` (user: value, version) merged in, under its version.
    async fn merge_board(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        by: By,
        period: Period,
        changed: &BTreeMap<String, (i64, u64)>,
        as_of: Option<u64>,
    ) -> Result<(), StoreError> {
        let key = Store::board_key(net, prog, by, period);
        self.retrying(|_| {
            let key = &key;
            async move {
                let old: Option<Board> = self.get(key).await?.map(items::from_item).transpose()?;
                let existed = old.is_some();
                let old = old.unwrap_or_default();
                let entries: Vec<(String, i64, u64)> =
                    old.entries.into_iter().map(|e| (e.u, e.v, e.ver)).collect();
                let merged = merge_versioned(entries, changed, KEEP);
                let board = Board {
                    entries: merged
                        .into_iter()
                        .map(|(u, v, ver)| Entry { u, v, ver })
                        .collect(),
                    version: old.version + 1,
                    as_of_ns: old.as_of_ns.max(as_of),
                };
                let mut e = Expr::new();
                let cond = if existed {
                    format!("{} = {}", e.n("version"), e.v(n(old.version)))
                } else {
                    format!("attribute_not_exists({})", e.n(keys::PK))
                };
                let item = items::with_key(items::to_item(&board)?, key);
                if self.put_if(item, Some(&cond), &e).await? {
                    Ok(Attempt::Done(()))
                } else {
                    // another batch merged meanwhile: merge again onto its list
                    Ok(Attempt::Retry)
                }
            }
        })
        .await
    }
}
