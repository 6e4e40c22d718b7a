//! Moving a user with referees: its whole subtree takes a new upline and root.
//!
//! The fence of the source tree goes up first (with the destination tree locked), in the
//! same transaction as the move's job item, which the request holds unarmed. Then the
//! uplines are rewritten, each member with its edges in one transaction and under its
//! generation, the moving user first. Members who join meanwhile under a member not yet
//! rewritten leave a pending row that the move fixes. Then the fence comes down. A move that
//! fits in one transaction does all of this within the request; a larger one is armed and
//! answers 202, and its job finishes it. A request that fails before either leaves an unarmed
//! job, which it (or, once its lease runs out, the worker) cancels: nothing of it is written.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::link::{LinkOutcome, LinkRequest, LinkSnapshot};
use super::Member;
use crate::clock;
use crate::domain::graph::{edge_changes, moved_upline, MemberView};
use crate::domain::link::Refusal;
use crate::domain::{Level, NetworkId, ProgramId, UserId};
use crate::store::jobs::{new_job_id, now_ms, JobItem, JobStatus, Phase, LEASE_MS};
use crate::store::{Attempt, Store, StoreError, TxError};

/// What a move sets, fixed once its fence is up.
#[derive(Clone, Debug)]
pub struct MoveTarget {
    pub net: NetworkId,
    pub prog: ProgramId,
    pub job: String,
    /// The moving user, and the roots of its tree before and after.
    pub user: UserId,
    pub source: UserId,
    pub new_root: UserId,
    pub new_top: Vec<UserId>,
    pub dest_epoch: u64,
}

impl MoveTarget {
    pub fn of(job: &JobItem) -> Result<MoveTarget, StoreError> {
        let (user, source, new_root) = job.users()?;
        Ok(MoveTarget {
            net: job.net()?,
            prog: job.prog()?,
            job: job.id.clone(),
            user,
            source,
            new_root,
            new_top: job.new_top()?,
            dest_epoch: job.dest_epoch,
        })
    }

    /// The view of a member `depth` levels below the moving user after the move.
    pub fn moved(&self, m: &MemberView, depth: usize) -> MemberView {
        MemberView {
            upline: moved_upline(&m.upline, depth, &self.new_top),
            root: self.new_root.clone(),
            tree_epoch: self.dest_epoch,
            moved_by: Some(self.job.clone()),
            ..m.clone()
        }
    }
}

impl Store {
    /// One member's rewrite with its edges: one group, committed together.
    pub(crate) fn rewrite_items(
        &self,
        t: &MoveTarget,
        m: &Member,
        next: &MemberView,
        depth: usize,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut g = vec![self.member_put(&t.net, &t.prog, &m.item, next, m.seen)?];
        let v = &m.view;
        let ns = (v.connected_ns, next.connected_ns);
        let (gone, added) = edge_changes(&v.user, ns, depth, &v.upline, &next.upline);
        for e in &gone {
            g.push(self.edge_delete(&t.net, &t.prog, e)?);
        }
        for e in &added {
            g.push(self.edge_put(&t.net, &t.prog, e)?);
        }
        Ok(g)
    }

    /// Whether `ancestor` is above `member` at any depth: the walk jumps ten levels at a time
    /// through the stored uplines. The caller holds the tree's fence, so they stay put.
    pub(crate) async fn is_ancestor(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
        member: &MemberView,
    ) -> Result<bool, StoreError> {
        let mut cur = member.clone();
        loop {
            if &cur.root == ancestor || cur.upline.contains(ancestor) {
                return Ok(true);
            }
            let Some(top) = cur
                .upline
                .get(Level::MAX.depth() - 1)
                .filter(|_| cur.upline.len() == Level::MAX.depth())
            else {
                return Ok(false);
            };
            let next = self.members(net, prog, std::slice::from_ref(top)).await?;
            match next.into_iter().next() {
                Some(m) if m.exists() && m.view.referrer.is_some() => cur = m.view,
                _ => return Ok(false),
            }
        }
    }

    /// A link or a change whose user has referees (from `link`).
    pub(crate) async fn move_attempt(
        &self,
        req: &LinkRequest<'_>,
        snap: &LinkSnapshot,
    ) -> Result<Attempt<LinkOutcome>, StoreError> {
        let dest = if snap.referrer.exists() {
            snap.referrer.view.root.clone()
        } else {
            req.referrer.clone()
        };
        let out = self
            .fenced_move(
                req.net,
                req.program,
                req.user,
                Some(req.referrer),
                &dest,
                snap,
                req.metadata.clone(),
            )
            .await?;
        Ok(match out {
            Attempt::Done(LinkOutcome::Linked { connection, .. }) => {
                Attempt::Done(LinkOutcome::Linked {
                    connection,
                    created: snap.user.view.referrer.is_none(),
                    user_was_new: false,
                })
            }
            other => other,
        })
    }

    /// Raises the fence, checks again what the move relies on, and moves within the request
    /// when it fits in one transaction; otherwise arms the job for the worker. Whatever fails
    /// before either cancels the job.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn fenced_move(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        referrer: Option<&UserId>,
        dest_root: &UserId,
        snap: &LinkSnapshot,
        metadata: Option<String>,
    ) -> Result<Attempt<LinkOutcome>, StoreError> {
        let source = snap.user.view.root.clone();
        let now = clock::now();
        let mut job = JobItem {
            id: new_job_id()?,
            network_id: net.as_str().to_owned(),
            program_id: prog.as_str().to_owned(),
            kind: if referrer.is_some() { "move" } else { "remove" }.to_owned(),
            user: user.as_str().to_owned(),
            referrer: referrer.map(|r| r.as_str().to_owned()),
            metadata,
            status: JobStatus::Running,
            reason: None,
            moved: 0,
            total: 0,
            source_root: source.as_str().to_owned(),
            dest_root: dest_root.as_str().to_owned(),
            new_top: Vec::new(),
            dest_epoch: 0,
            connected_ns: now.ns,
            state: Phase::Top,
            lease_until: now_ms() + LEASE_MS,
            version: 0,
            created_at: now.rfc3339.clone(),
            armed: false,
            progress_at_ms: 0,
            cancel: false,
        };
        let mut tx = self.fence_raise(net, prog, &source, Some(dest_root), &job.id)?;
        let raised = tx.len();
        tx.push(self.tx_put(
            self.job_item(&job)?,
            None,
            &crate::store::Expr::new(),
            false,
        )?);
        match self.transact(tx).await {
            Ok(()) => {}
            Err(TxError::Cancelled(r)) if (0..raised).any(|i| TxError::condition_failed(&r, i)) => {
                return Ok(Attempt::Done(LinkOutcome::Refused(Refusal::SubtreeBusy)));
            }
            Err(e) => return e.retry(),
        }
        match self.move_under_fence(&mut job, referrer, snap).await {
            Ok(Some(out)) => Ok(out),
            Ok(None) => {
                // Committed: the job finishes what the request could not.
                Ok(Attempt::Done(LinkOutcome::Job(Box::new(job.view()))))
            }
            Err(e) => {
                // Nothing of the move is written yet; the worker cancels the job if this fails.
                if let Err(again) = self.abandon(&job).await {
                    tracing::warn!(job = %job.id, error = %crate::telemetry::error_chain(&again), "a failed move's job is left for the worker to cancel");
                }
                Err(e)
            }
        }
    }
    /// Lowers the fence of a move that will not happen, and forgets its job: only while the
    /// job is unarmed and as `job` saw it.
    pub(crate) async fn abandon(&self, job: &JobItem) -> Result<bool, StoreError> {
        let t = MoveTarget::of(job)?;
        let mut tx = self.fence_lower(&t.net, &t.prog, &t.source, Some(&t.new_root), &job.id)?;
        tx.push(self.job_delete_item(job)?);
        match self.transact(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(_)) => Ok(false),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}
