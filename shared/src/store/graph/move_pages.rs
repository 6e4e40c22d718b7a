//! The pages of a move job: its members within ten levels (by level, then edge shard), and
//! below them band by band, each rewritten under the generation it was read at, and only
//! while it is still under the moving user.

use super::downline::{EdgeRow, Levels};
use super::move_job::Step;
use super::moves::MoveTarget;
use super::Member;
use crate::domain::graph::still_under;
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{Level, UserId};
use crate::store::jobs::{JobItem, Phase};
use crate::store::table::{pack, SortKey};
use crate::store::{items, keys, s, Expr, Item, Store, StoreError, TxError};

/// Members read and rewritten per step.
pub(super) const PAGE: i32 = 25;

/// A member found through an edge: `level` below `anchor`, `depth` below the moving user.
struct Found {
    member: Member,
    anchor: UserId,
    level: usize,
    depth: usize,
}

impl Store {
    /// A page of the members `level` below the moving user, in one edge shard. Empty shards
    /// and levels are passed within the step.
    pub(super) async fn step_near(
        &self,
        job: &mut JobItem,
        t: &MoveTarget,
        level: u8,
        shard: u8,
        after: Option<String>,
    ) -> Result<Step, StoreError> {
        let (mut level, mut shard, mut after) = (level, shard, after);
        loop {
            let lvl = Level::new(level).unwrap_or(Level::MAX);
            let (rows, last) = self
                .edge_page(
                    &t.net,
                    &t.prog,
                    (&t.user, shard.into()),
                    Levels::Exactly(lvl),
                    (after, Some(PAGE)),
                )
                .await?;
            let found = self.found(t, &t.user, &rows, 0).await?;
            if !self.rewrite_page(job, t, &found, 1).await? {
                return Ok(Step::Again);
            }
            job.state = match last {
                Some(sk) => Phase::Near {
                    level,
                    shard,
                    after: Some(sk),
                },
                None if (shard as usize) + 1 < EDGE_SHARDS => Phase::Near {
                    level,
                    shard: shard + 1,
                    after: None,
                },
                None if level < Level::MAX.get() => Phase::Near {
                    level: level + 1,
                    shard: 0,
                    after: None,
                },
                None => Phase::Deep {
                    band: 1,
                    frontier_after: None,
                    shard: 0,
                    after: None,
                },
            };
            match (&job.state, rows.is_empty()) {
                (
                    Phase::Near {
                        level: l,
                        shard: s,
                        after: a,
                    },
                    true,
                ) => (level, shard, after) = (*l, *s, a.clone()),
                _ => return Ok(Step::Advanced),
            }
        }
    }

    /// A page of the members within ten levels below one frontier member of `band`.
    pub(super) async fn step_deep(
        &self,
        job: &mut JobItem,
        t: &MoveTarget,
        band: u32,
        frontier_after: Option<String>,
        shard: u8,
        after: Option<String>,
    ) -> Result<Step, StoreError> {
        let part = keys::job_frontier_partition(&job.id, band);
        let page = self
            .query_page(&part, &SortKey::All, frontier_after.clone(), Some(1))
            .await?;
        let Some(f) = page
            .items
            .first()
            .and_then(|i| items::text(i, "user"))
            .map(items::user_id)
            .transpose()?
        else {
            job.state = if frontier_after.is_none() {
                Phase::Pending {
                    shard: 0,
                    after: None,
                    fixed: false,
                }
            } else {
                Phase::Deep {
                    band: band + 1,
                    frontier_after: None,
                    shard: 0,
                    after: None,
                }
            };
            return Ok(Step::Advanced);
        };
        let (rows, last) = self
            .edge_page(
                &t.net,
                &t.prog,
                (&f, shard.into()),
                Levels::UpTo(Level::MAX),
                (after, Some(PAGE)),
            )
            .await?;
        let base = band as usize * Level::MAX.depth();
        let found = self.found(t, &f, &rows, base).await?;
        if !self.rewrite_page(job, t, &found, band + 1).await? {
            return Ok(Step::Again);
        }
        job.state = match last {
            Some(sk) => Phase::Deep {
                band,
                frontier_after,
                shard,
                after: Some(sk),
            },
            None if (shard as usize) + 1 < EDGE_SHARDS => Phase::Deep {
                band,
                frontier_after,
                shard: shard + 1,
                after: None,
            },
            None => Phase::Deep {
                band,
                frontier_after: Some(f.as_str().to_owned()),
                shard: 0,
                after: None,
            },
        };
        Ok(Step::Advanced)
    }

    /// The members of a page of edges under `anchor`, `base` levels below the moving user.
    async fn found(
        &self,
        t: &MoveTarget,
        anchor: &UserId,
        rows: &[EdgeRow],
        base: usize,
    ) -> Result<Vec<Found>, StoreError> {
        let users: Vec<UserId> = rows.iter().map(|r| r.user.clone()).collect();
        let members = self.members(&t.net, &t.prog, &users).await?;
        Ok(members
            .into_iter()
            .zip(rows)
            .map(|(member, r)| Found {
                member,
                anchor: anchor.clone(),
                level: r.level as usize,
                depth: base + r.level as usize,
            })
            .collect())
    }

    /// Rewrites a page of members (skipping those the job already did, and those no longer
    /// under the moving user) and records the ones ten levels down that have referees, as
    /// the next band's frontier. False when a member changed under the page.
    async fn rewrite_page(
        &self,
        job: &mut JobItem,
        t: &MoveTarget,
        found: &[Found],
        next_band: u32,
    ) -> Result<bool, StoreError> {
        let mut groups = Vec::new();
        let mut done = 0;
        for f in found {
            let m = &f.member;
            if !m.exists() {
                return Err(StoreError::Corrupt("edge without membership".into()));
            }
            let ours = m.view.moved_by.as_deref() == Some(t.job.as_str());
            // A leaf that left since its edge was read: the guard on its generation keeps
            // it out of a rewrite that read it before it left.
            if !ours && !still_under(&m.view, &f.anchor, f.level) {
                continue;
            }
            let mut g = Vec::new();
            if !ours {
                g.extend(self.rewrite_items(t, m, &t.moved(&m.view, f.depth), f.depth)?);
                done += 1;
            }
            if f.depth % Level::MAX.depth() == 0 && m.view.kids {
                let key = keys::job_frontier(&t.job, next_band, &m.view.user);
                let item = Item::from([("user".to_owned(), s(m.view.user.as_str()))]);
                g.push(self.tx_put(items::with_key(item, &key), None, &Expr::new(), false)?);
            }
            if !g.is_empty() {
                groups.push(g);
            }
        }
        for tx in pack(groups) {
            match self.transact(tx).await {
                Ok(()) => {}
                Err(TxError::Cancelled(_)) => return Ok(false),
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        job.moved += done;
        job.total = job.total.max(job.moved);
        Ok(true)
    }
}
