//! The move worker: resumes a job from its stored phase, one page at a time, checkpointing
//! after each. Every write is guarded by the rewritten member's generation and every member
//! it finished is marked with the job, so a page done twice after a crash changes nothing.

use std::time::Duration;

use super::super::items;
use super::super::jobs::{now_ms, JobItem, JobStatus, Phase, LEASE_MS};
use super::super::table::pack;
use super::super::{keys, s, Expr, Item, Store, StoreError, TxError};
use super::downline::Levels;
use super::moves::MoveTarget;
use super::{unchanged, Member};
use crate::domain::graph::{upline_under, MemberView};
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{Level, NetworkId, UserId, MAX_LEVELS};

/// Members read and rewritten per step.
const PAGE: i32 = 25;

/// How a step ended.
enum Step {
    Advanced,
    /// Something moved under the step: do it again from a fresh read.
    Again,
}

impl Store {
    /// Runs job `id` until it ends or `until_ms` comes. A job another worker holds is waited
    /// for when its lease ends in time. Leaves the job unleased when time runs out, so that
    /// the write wakes the next worker.
    pub async fn run_job(
        &self,
        net: &NetworkId,
        id: &str,
        until_ms: u64,
    ) -> Result<Option<JobStatus>, StoreError> {
        loop {
            let Some(mut job) = self.get_job(net, id).await? else {
                return Ok(None);
            };
            if job.status != JobStatus::Running {
                return Ok(Some(job.status));
            }
            let now = now_ms();
            if job.lease_until > now {
                if job.lease_until >= until_ms {
                    return Ok(Some(job.status));
                }
                tokio::time::sleep(Duration::from_millis(job.lease_until - now + 10)).await;
                continue;
            }
            job.lease_until = now + LEASE_MS;
            if !self.save_job(&mut job).await? {
                continue;
            }
            while job.status == JobStatus::Running && now_ms() + 1_000 < until_ms {
                let before = self.capacity().mark();
                if let Step::Again = self.job_step(&mut job).await? {
                    tokio::time::sleep(super::super::jitter(Duration::from_millis(50))).await;
                    continue;
                }
                if job.status == JobStatus::Running {
                    job.lease_until = now_ms() + LEASE_MS;
                    if !self.save_job(&mut job).await? {
                        return Ok(Some(JobStatus::Running));
                    }
                }
                self.throttle(self.capacity().spent_since(before)).await;
            }
            if job.status == JobStatus::Running {
                job.lease_until = 0;
                self.save_job(&mut job).await?;
            }
            return Ok(Some(job.status));
        }
    }

    /// Keeps a move's writes under the configured rate, so signups elsewhere keep theirs.
    async fn throttle(&self, units: f64) {
        let rate = self.move_rate();
        if units > 0.0 && rate > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(units / rate)).await;
        }
    }

    /// Runs the pending passes and the lowering within the request that holds the job.
    pub(crate) async fn finish_job(&self, job: &mut JobItem) -> Result<(), StoreError> {
        while job.status == JobStatus::Running {
            match self.job_step(job).await? {
                Step::Advanced => {}
                Step::Again => {
                    tokio::time::sleep(super::super::jitter(Duration::from_millis(20))).await;
                }
            }
        }
        Ok(())
    }

    async fn job_step(&self, job: &mut JobItem) -> Result<Step, StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let (user, source, new_root) = job.users()?;
        let new_top = job.new_top()?;
        let job_id = job.id.clone();
        let t = MoveTarget {
            net: &net,
            prog: &prog,
            job: &job_id,
            new_top: &new_top,
            new_root: &new_root,
            dest_epoch: job.dest_epoch,
        };
        match job.state.clone() {
            Phase::Top => self.step_top(job, &t).await,
            Phase::Near {
                level,
                shard,
                after,
            } => {
                let level = Level::new(level).unwrap_or(Level::MAX);
                let (rows, last) = self
                    .edge_page(
                        &net,
                        &prog,
                        (&user, shard.into()),
                        Levels::Exactly(level),
                        (after, Some(PAGE)),
                    )
                    .await?;
                let members = self
                    .members(
                        &net,
                        &prog,
                        &rows.iter().map(|r| r.user.clone()).collect::<Vec<_>>(),
                    )
                    .await?;
                let depth = level.get() as usize;
                let found: Vec<(Member, usize)> = members.into_iter().map(|m| (m, depth)).collect();
                if !self.rewrite_page(job, &t, &found, 1).await? {
                    return Ok(Step::Again);
                }
                job.state = match last {
                    Some(sk) => Phase::Near {
                        level: level.get(),
                        shard,
                        after: Some(sk),
                    },
                    None if (shard as usize) + 1 < EDGE_SHARDS => Phase::Near {
                        level: level.get(),
                        shard: shard + 1,
                        after: None,
                    },
                    None if level.get() < MAX_LEVELS => Phase::Near {
                        level: level.get() + 1,
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
                Ok(Step::Advanced)
            }
            Phase::Deep {
                band,
                frontier_after,
                shard,
                after,
            } => {
                let part = keys::job_frontier_partition(&job.id, band);
                let page = self
                    .query_page(
                        &part,
                        &super::super::table::SortKey::All,
                        frontier_after.clone(),
                        Some(1),
                    )
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
                        &net,
                        &prog,
                        (&f, shard.into()),
                        Levels::UpTo(Level::MAX),
                        (after, Some(PAGE)),
                    )
                    .await?;
                let members = self
                    .members(
                        &net,
                        &prog,
                        &rows.iter().map(|r| r.user.clone()).collect::<Vec<_>>(),
                    )
                    .await?;
                let base = band as usize * MAX_LEVELS as usize;
                let found: Vec<(Member, usize)> = members
                    .into_iter()
                    .zip(&rows)
                    .map(|(m, r)| (m, base + r.level as usize))
                    .collect();
                if !self.rewrite_page(job, &t, &found, band + 1).await? {
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
            Phase::Pending {
                shard,
                after,
                fixed,
            } => self.step_pending(job, &t, shard, after, fixed).await,
            Phase::Lower | Phase::Finished => {
                let dest = new_root.clone();
                let mut tx = self.fence_lower(&net, &prog, &source, Some(&dest), &job.id)?;
                job.status = JobStatus::Done;
                job.state = Phase::Finished;
                job.lease_until = 0;
                tx.push(self.job_update_item(job)?);
                match self.transact(tx).await {
                    Ok(()) => Ok(Step::Advanced),
                    Err(TxError::Cancelled(_)) => {
                        job.status = JobStatus::Running;
                        job.version -= 1;
                        Ok(Step::Again)
                    }
                    Err(TxError::Store(e)) => Err(e),
                }
            }
        }
    }

    /// The moving user's own rewrite, unless done; a new referrer that changed since the move
    /// began fails the job, and its fence comes down.
    async fn step_top(&self, job: &mut JobItem, t: &MoveTarget<'_>) -> Result<Step, StoreError> {
        let (user, _, dest) = job.users()?;
        let referrer = job.referrer.as_deref().map(items::user_id).transpose()?;
        let mut wanted = vec![user.clone()];
        wanted.extend(referrer.clone());
        let fresh = self.members(t.net, t.prog, &wanted).await?;
        let (u, r) = (&fresh[0], fresh.get(1));
        if u.view.moved_by.as_deref() == Some(&job.id) {
            job.state = Phase::Near {
                level: 1,
                shard: 0,
                after: None,
            };
            return Ok(Step::Advanced);
        }
        if let (Some(rid), Some(r)) = (&referrer, r) {
            let expected = upline_under(rid, &r.view.upline);
            let root_ok = if r.exists() {
                r.view.root == dest
            } else {
                rid == &dest
            };
            if expected != t.new_top || !root_ok {
                return self.fail_job(job, "the new referrer was moved while the move began; nothing changed, so send it again").await;
            }
        }
        let profile = match &referrer {
            Some(rid) => self.get_profile(t.net, rid).await?,
            None => None,
        };
        let groups = self.top_items(job, profile.as_ref(), u, r)?;
        for tx in pack(groups) {
            match self.transact(tx).await {
                Ok(()) => {}
                Err(TxError::Cancelled(_)) => return Ok(Step::Again),
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        job.moved += 1;
        job.state = Phase::Near {
            level: 1,
            shard: 0,
            after: None,
        };
        Ok(Step::Advanced)
    }

    /// Rewrites a page of members (skipping those the job already did) and records the ones
    /// ten levels down that have referees, as the next band's frontier. False when a member
    /// changed under the page.
    async fn rewrite_page(
        &self,
        job: &mut JobItem,
        t: &MoveTarget<'_>,
        found: &[(Member, usize)],
        next_band: u32,
    ) -> Result<bool, StoreError> {
        let mut groups = Vec::new();
        let mut done = 0;
        for (m, depth) in found {
            if !m.exists() {
                return Err(StoreError::Corrupt("edge without membership".into()));
            }
            let mut g = Vec::new();
            if m.view.moved_by.as_deref() != Some(t.job) {
                g.extend(self.rewrite_items(t, m, &t.moved(&m.view, *depth), *depth)?);
                done += 1;
            }
            if depth % MAX_LEVELS as usize == 0 && m.view.kids {
                let key = keys::job_frontier(t.job, next_band, &m.view.user);
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

    /// Members who joined under a member the move had not rewritten yet: each is set from its
    /// referrer as it now stands. Passes repeat until one fixes nobody.
    async fn step_pending(
        &self,
        job: &mut JobItem,
        t: &MoveTarget<'_>,
        shard: u8,
        after: Option<String>,
        fixed: bool,
    ) -> Result<Step, StoreError> {
        let part = keys::job_pending_partition(t.job, shard.into());
        let page = self
            .query_page(&part, &super::super::table::SortKey::All, after, Some(PAGE))
            .await?;
        let mut fixed_now = false;
        for item in &page.items {
            let Some(y) = items::text(item, "user").map(items::user_id).transpose()? else {
                continue;
            };
            match self.fix_pending(t, &y).await? {
                Some(true) => fixed_now = true,
                Some(false) => {}
                None => return Ok(Step::Again),
            }
        }
        let fixed = fixed || fixed_now;
        job.state = match page.last_sk {
            Some(sk) => Phase::Pending {
                shard,
                after: Some(sk),
                fixed,
            },
            None if (shard as usize) + 1 < EDGE_SHARDS => Phase::Pending {
                shard: shard + 1,
                after: None,
                fixed,
            },
            None if fixed => Phase::Pending {
                shard: 0,
                after: None,
                fixed: false,
            },
            None => Phase::Lower,
        };
        Ok(Step::Advanced)
    }

    /// Sets a member from its referrer as it now stands. Some(true) when it changed, None when
    /// either changed under the write.
    async fn fix_pending(
        &self,
        t: &MoveTarget<'_>,
        y: &UserId,
    ) -> Result<Option<bool>, StoreError> {
        let ym = self
            .members(t.net, t.prog, std::slice::from_ref(y))
            .await?
            .remove(0);
        let Some(p) = ym.view.referrer.clone() else {
            return Ok(Some(false));
        };
        let pm = self
            .members(t.net, t.prog, std::slice::from_ref(&p))
            .await?
            .remove(0);
        let next = MemberView {
            upline: upline_under(&p, &pm.view.upline),
            root: pm.view.root.clone(),
            tree_epoch: pm.view.tree_epoch,
            moved_by: Some(t.job.to_owned()),
            ..ym.view.clone()
        };
        if next.upline == ym.view.upline
            && next.root == ym.view.root
            && next.tree_epoch == ym.view.tree_epoch
        {
            return Ok(Some(false));
        }
        let mut tx = self.rewrite_items(t, &ym, &next, 0)?;
        let mut e = Expr::new();
        let cond = unchanged(&mut e, pm.seen);
        tx.push(self.tx_check(&keys::membership(t.net, t.prog, &p), &cond, &e)?);
        match self.transact(tx).await {
            Ok(()) => Ok(Some(true)),
            Err(TxError::Cancelled(_)) => Ok(None),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Ends a job that cannot go on: its fence comes down and it says why.
    async fn fail_job(&self, job: &mut JobItem, reason: &str) -> Result<Step, StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let (_, source, dest) = job.users()?;
        let mut tx = self.fence_lower(&net, &prog, &source, Some(&dest), &job.id)?;
        job.status = JobStatus::Failed;
        job.reason = Some(reason.to_owned());
        job.state = Phase::Finished;
        tx.push(self.job_update_item(job)?);
        match self.transact(tx).await {
            Ok(()) => Ok(Step::Advanced),
            Err(TxError::Cancelled(_)) => {
                job.status = JobStatus::Running;
                job.version -= 1;
                Ok(Step::Again)
            }
            Err(TxError::Store(e)) => Err(e),
        }
    }
}
