//! The move worker's loop: a job's lease, its arming, and how every job ends.
//!
//! A job ends `done`, or `failed` with a reason. Only its first step (the moving user's own
//! rewrite) can fail it, and only before that step has written anything: a banned party, a
//! new referrer that moved, or records that kept changing for `TOP_TRIES` attempts. Once the
//! user is moved, every later step only brings its subtree in line, and always can.

use std::time::Duration;

use super::moves::MoveTarget;
use crate::domain::NetworkId;
use crate::store::jobs::{now_ms, JobItem, JobStatus, Phase, LEASE_MS};
use crate::store::{jitter, Store, StoreError, TxError};

/// Attempts of the first step before the job gives up, having changed nothing.
pub const TOP_TRIES: u32 = 50;
/// Failed steps in a row after which the worker reads the job again: another may have ended it.
const REREAD_AFTER: u32 = 5;
/// Failed steps in a row after which a request leaves its committed move to the worker.
const IN_REQUEST_TRIES: u32 = 20;

/// How a step ended.
pub(super) enum Step {
    Advanced,
    /// Something moved under the step: do it again from a fresh read.
    Again,
}

impl Store {
    /// Runs job `id` until it ends or `until_ms` comes. A job another worker holds is waited
    /// for when its lease ends in time. An unarmed job whose lease ran out lost its request:
    /// it is cancelled. Leaves the job unleased when time runs out, so that the write wakes
    /// the next worker.
    pub async fn run_job(
        &self,
        net: &NetworkId,
        id: &str,
        until_ms: u64,
    ) -> Result<Option<JobStatus>, StoreError> {
        self.with_own_tally().work_job(net, id, until_ms).await
    }

    async fn work_job(
        &self,
        net: &NetworkId,
        id: &str,
        until_ms: u64,
    ) -> Result<Option<JobStatus>, StoreError> {
        let mut top_tries = 0u32;
        'job: loop {
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
            if !job.armed {
                if self.abandon(&job).await? {
                    tracing::info!(job = %job.id, "a move whose request failed is cancelled; nothing of it was written");
                    return Ok(None);
                }
                continue;
            }
            job.lease_until = now + LEASE_MS;
            if !self.save_job(&mut job).await? {
                continue;
            }
            let mut again = 0u32;
            while job.status == JobStatus::Running && now_ms() + 1_000 < until_ms {
                if job.cancel && job.state == Phase::Top {
                    let why = "cancelled by an operator before it changed anything";
                    if let Step::Again = self.fail_job(&mut job, why).await? {
                        continue 'job;
                    }
                    continue;
                }
                let before = self.capacity().mark();
                match self.job_step(&mut job).await? {
                    Step::Advanced => {
                        again = 0;
                        if job.status == JobStatus::Running {
                            job.lease_until = now_ms() + LEASE_MS;
                            job.progress_at_ms = now_ms();
                            if !self.save_job(&mut job).await? {
                                return Ok(Some(JobStatus::Running));
                            }
                        }
                        self.throttle(self.capacity().spent_since(before)).await;
                    }
                    Step::Again => {
                        again += 1;
                        if job.state == Phase::Top {
                            top_tries += 1;
                            if top_tries >= TOP_TRIES {
                                let why = "the records this move needs kept changing while it began; nothing changed, so send it again";
                                if let Step::Again = self.fail_job(&mut job, why).await? {
                                    continue 'job;
                                }
                                continue;
                            }
                        }
                        if again.is_multiple_of(REREAD_AFTER) && !self.still_ours(&mut job).await? {
                            continue 'job;
                        }
                        let backoff = Duration::from_millis(20 * u64::from(again.min(10)));
                        tokio::time::sleep(jitter(backoff)).await;
                    }
                }
            }
            if job.status == JobStatus::Running {
                job.lease_until = 0;
                self.save_job(&mut job).await?;
            }
            return Ok(Some(job.status));
        }
    }

    /// Whether the job is still as this worker left it, renewing its lease when it runs low.
    async fn still_ours(&self, job: &mut JobItem) -> Result<bool, StoreError> {
        let net = job.net()?;
        match self.get_job(&net, &job.id).await? {
            Some(fresh) if fresh.version == job.version => {
                if job.lease_until < now_ms() + LEASE_MS / 3 {
                    job.lease_until = now_ms() + LEASE_MS;
                    return self.save_job(job).await;
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Keeps a move's writes under the configured rate, so signups elsewhere keep theirs.
    pub(crate) async fn throttle(&self, units: f64) {
        let rate = self.move_rate();
        if units > 0.0 && rate > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(units / rate)).await;
        }
    }

    /// Runs the pending passes and the lowering within the request that holds the job. Gives
    /// up (the job stays armed for the worker) when its steps keep failing.
    pub(crate) async fn finish_job(&self, job: &mut JobItem) -> Result<(), StoreError> {
        let mut again = 0u32;
        while job.status == JobStatus::Running {
            match self.job_step(job).await? {
                Step::Advanced => again = 0,
                Step::Again => {
                    again += 1;
                    if again >= IN_REQUEST_TRIES {
                        job.lease_until = 0;
                        self.save_job(job).await?;
                        return Err(StoreError::Contention);
                    }
                    tokio::time::sleep(jitter(Duration::from_millis(20))).await;
                }
            }
        }
        Ok(())
    }

    /// Ends a job that cannot go on before it changed anything: its fence comes down and it
    /// says why.
    pub(super) async fn fail_job(
        &self,
        job: &mut JobItem,
        reason: &str,
    ) -> Result<Step, StoreError> {
        let step = self.end_job(job, JobStatus::Failed, Some(reason)).await?;
        if let Step::Advanced = step {
            tracing::info!(job = %job.id, reason, "move job failed");
        }
        Ok(step)
    }

    /// Lowers the fence and marks the job done.
    pub(super) async fn lower_job(&self, job: &mut JobItem) -> Result<Step, StoreError> {
        job.total = job.moved;
        self.end_job(job, JobStatus::Done, None).await
    }

    /// The fence lowered and the job's last state, in one transaction.
    async fn end_job(
        &self,
        job: &mut JobItem,
        status: JobStatus,
        reason: Option<&str>,
    ) -> Result<Step, StoreError> {
        let t = MoveTarget::of(job)?;
        let mut tx = self.fence_lower(&t.net, &t.prog, &t.source, Some(&t.new_root), &job.id)?;
        let before = job.clone();
        job.status = status;
        job.reason = reason.map(str::to_owned);
        job.state = Phase::Finished;
        job.lease_until = 0;
        tx.push(self.job_update_item(job)?);
        match self.transact(tx).await {
            Ok(()) => Ok(Step::Advanced),
            Err(TxError::Cancelled(_)) => {
                *job = before;
                Ok(Step::Again)
            }
            Err(TxError::Store(e)) => {
                *job = before;
                Err(e)
            }
        }
    }
}
