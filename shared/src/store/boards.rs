//! Leaderboards: one item per (program, measure, period) holding its top list, merged by the
//! `merge-boards` consumer from the members' shards as the stream shows them move: the
//! aggregator's count shards (referrals), the rewards consumer's score shards (rewards).
//! Nothing on the signup path writes here, and a page of a leaderboard is one read.
//!
//! Each entry keeps the sum of the member's shard versions it was read at: a merge that read
//! older shards than the entry's never replaces it, so two batches merging the same member in
//! either order leave the newer value. A rewards entry keeps its held cents by the hour they
//! count from, so a hold that ends needs no write: the read counts them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::counts::count_keys;
use super::{items, keys, n, Attempt, Expr, Item, Store, StoreError};
use crate::domain::leaderboard::{merge_entries, BoardEntry, By, Period, KEEP};
use crate::domain::shards::COUNT_SHARDS;
use crate::domain::{NetworkId, ProgramId, UserId};

/// A leaderboard item.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Board {
    /// Highest value first, ties by user id; values above 0 only.
    #[serde(default)]
    pub entries: Vec<BoardEntry>,
    /// Bumped by every merge: the conditional put's guard.
    #[serde(default)]
    pub version: u64,
    /// The newest connection its values include, in ns.
    #[serde(default)]
    pub as_of_ns: Option<u64>,
}

/// Per program, the members whose values changed and the months they changed in.
pub type Touched = BTreeMap<(NetworkId, ProgramId), (BTreeSet<UserId>, BTreeSet<Period>)>;

/// A member's shards summed: every number by attribute, their versions, their newest time.
#[derive(Default)]
struct Shards {
    sums: HashMap<String, i64>,
    ver: u64,
    as_of_ns: Option<u64>,
}

fn read_shards(got: &mut HashMap<super::Key, Item>, shard_keys: &[super::Key]) -> Shards {
    let mut out = Shards::default();
    for k in shard_keys {
        let Some(item) = got.remove(k) else { continue };
        for (attr, v) in &item {
            let Some(x) = v.as_n().ok().and_then(|x| x.parse::<i64>().ok()) else {
                continue;
            };
            match attr.as_str() {
                "v" => out.ver += x.max(0) as u64,
                "as_of_ns" => out.as_of_ns = out.as_of_ns.max(Some(x.max(0) as u64)),
                a => *out.sums.entry(a.to_owned()).or_default() += x,
            }
        }
    }
    out
}

impl Shards {
    /// Direct referees in `period`: `c1`, or the month's `m<YYYYMM>`.
    fn referrals(&self, user: &UserId, period: Period) -> BoardEntry {
        let attr = period.referrals_attr();
        BoardEntry {
            u: user.as_str().to_owned(),
            v: self.sums.get(&attr).copied().unwrap_or(0),
            ver: self.ver,
            pend: Vec::new(),
        }
    }

    /// Reward cents in `period` (`<bucket>@<YYYYMM>`): approved and paid ones, and held ones
    /// that counted by `now_ns`, as the value; the rest held by hour.
    fn rewards(&self, user: &UserId, period: Period, now_ns: u64) -> BoardEntry {
        let month = period.digits();
        let mut held: BTreeMap<u64, i64> = BTreeMap::new();
        let mut v = 0;
        for (attr, cents) in &self.sums {
            let Some((bucket, m)) = attr.split_once('@') else {
                continue;
            };
            if month.as_deref().is_some_and(|want| want != m) {
                continue;
            }
            match bucket {
                "approved" | "paid" => v += cents,
                b => {
                    if let Some(hour) = b.strip_prefix('p').and_then(|h| h.parse::<u64>().ok()) {
                        *held.entry(hour).or_default() += cents;
                    }
                }
            }
        }
        BoardEntry {
            u: user.as_str().to_owned(),
            v,
            ver: self.ver,
            pend: held.into_iter().collect(),
        }
        .settled(now_ns)
    }
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
        self.merge_boards(touched, By::Referrals, count_keys, |sh, u, p| {
            sh.referrals(u, p)
        })
        .await
    }

    /// Merges the reward scores of `touched` members into their program's leaderboards: the
    /// whole history's and each month's in `months`. A value counts approved and paid cents;
    /// held cents go with it by the hour they count from.
    pub async fn merge_reward_boards(&self, touched: &Touched) -> Result<(), StoreError> {
        let now_ns = crate::clock::now().ns;
        let score_keys = |net: &NetworkId, prog: &ProgramId, u: &UserId| {
            (0..COUNT_SHARDS)
                .map(|c| keys::reward_score(net, prog, u, c))
                .collect()
        };
        self.merge_boards(touched, By::Rewards, score_keys, |sh, u, p| {
            sh.rewards(u, p, now_ns)
        })
        .await
    }

    /// Reads each touched member's shards (one BatchGetItem per program), then merges their
    /// entries into the program's boards of `by`: the whole history's and the months'.
    async fn merge_boards(
        &self,
        touched: &Touched,
        by: By,
        shard_keys: impl Fn(&NetworkId, &ProgramId, &UserId) -> Vec<super::Key>,
        entry: impl Fn(&Shards, &UserId, Period) -> BoardEntry,
    ) -> Result<(), StoreError> {
        for ((net, prog), (users, months)) in touched {
            let per_user: Vec<(&UserId, Vec<super::Key>)> = users
                .iter()
                .map(|u| (u, shard_keys(net, prog, u)))
                .collect();
            let wanted: Vec<super::Key> = per_user
                .iter()
                .flat_map(|(_, k)| k.iter().cloned())
                .collect();
            let mut got = self.batch_get_with(&wanted, true).await?;
            let reads: Vec<(&UserId, Shards)> = per_user
                .iter()
                .map(|(u, k)| (*u, read_shards(&mut got, k)))
                .collect();
            let as_of = reads.iter().filter_map(|(_, r)| r.as_of_ns).max();
            for period in std::iter::once(Period::All).chain(months.iter().copied()) {
                let changed: Vec<BoardEntry> =
                    reads.iter().map(|(u, r)| entry(r, u, period)).collect();
                self.merge_board(net, prog, by, period, &changed, as_of)
                    .await?;
            }
        }
        Ok(())
    }

    /// One leaderboard with `changed` members merged in, under its version.
    async fn merge_board(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        by: By,
        period: Period,
        changed: &[BoardEntry],
        as_of: Option<u64>,
    ) -> Result<(), StoreError> {
        let key = Store::board_key(net, prog, by, period);
        self.retrying(|_| {
            let key = &key;
            async move {
                let old: Option<Board> = self.get(key).await?.map(items::from_item).transpose()?;
                let existed = old.is_some();
                let old = old.unwrap_or_default();
                let board = Board {
                    entries: merge_entries(old.entries, changed.to_vec(), KEEP),
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
