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

use super::super::counts::{count_keys, counts_from};
use super::super::jobs::{new_job_id, now_ms, JobItem, JobStatus, Phase, LEASE_MS};
use super::super::table::pack;
use super::super::users::{ProfileItem, Seen};
use super::super::{items, keys, Attempt, Store, StoreError, TxError, MAX_TX_ITEMS};
use super::fence::FenceState;
use super::link::{Connection, LinkOutcome, LinkRequest, LinkSnapshot};
use super::Member;
use crate::clock;
use crate::domain::graph::{edge_changes, moved_upline, upline_under, MemberView};
use crate::domain::link::Refusal;
use crate::domain::{Level, NetworkId, ProgramId, UserId};

/// The members a request moves itself, at most: half a transaction, so that their edges fit.
const IN_REQUEST: usize = (MAX_TX_ITEMS - 8) / 2;

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

/// What the request reads once its fence is up: one BatchGetItem.
struct UnderFence {
    user: Member,
    referrer: Option<Member>,
    /// The moving user's settled downline, ten levels deep.
    counted: u64,
    source_epoch: u64,
    dest_epoch: u64,
}

impl Store {
    /// One member's rewrite with its edges: one group, committed together.
    pub fn rewrite_items(
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
    pub async fn is_ancestor(
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
            &super::super::Expr::new(),
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

    /// The move once its fence is up. `Ok(None)` when the move committed but finishing it
    /// within the request failed: the armed job finishes it.
    async fn move_under_fence(
        &self,
        job: &mut JobItem,
        referrer: Option<&UserId>,
        snap: &LinkSnapshot,
    ) -> Result<Option<Attempt<LinkOutcome>>, StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let (user, source, dest_root) = job.users()?;
        let fresh = self.read_under_fence(job, referrer).await?;
        let (u, r) = (&fresh.user, fresh.referrer.as_ref());
        let stale = u.view.root != source
            || u.view.referrer != snap.user.view.referrer
            || r.is_some_and(|r| r.exists() && r.view.root != dest_root);
        let cycle = match r {
            Some(r) if r.exists() && dest_root == source => {
                self.is_ancestor(&net, &prog, &user, &r.view).await?
            }
            _ => false,
        };
        if stale || cycle {
            self.abandon(job).await?;
            return Ok(Some(if cycle {
                Attempt::Done(LinkOutcome::Refused(Refusal::Cycle))
            } else {
                Attempt::Retry
            }));
        }
        job.dest_epoch = fresh.dest_epoch;
        job.new_top = match (referrer, r) {
            (Some(rid), Some(r)) => upline_under(rid, &r.view.upline)
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect(),
            _ => Vec::new(),
        };
        // The user and its downline as the counts last settled; the job counts what it finds.
        job.total = fresh.counted + 1;
        let max = snap
            .program
            .as_ref()
            .map_or(Level::MAX, |p| p.max_levels)
            .depth();
        let new_top = job.new_top()?;
        let connection = referrer.map(|rid| Connection {
            program_id: prog.clone(),
            user: user.clone(),
            referrer: rid.clone(),
            upline: new_top.into_iter().take(max).collect(),
            created_at: clock::rfc3339(job.connected_ns),
        });
        let done = |c: Option<Connection>| {
            Attempt::Done(match c {
                Some(c) => LinkOutcome::Linked {
                    connection: Box::new(c),
                    created: true,
                    user_was_new: false,
                },
                None => LinkOutcome::Removed,
            })
        };
        if fresh.counted < IN_REQUEST as u64 {
            match self
                .move_in_one(job, snap.referrer_profile.as_ref(), &fresh)
                .await?
            {
                InOne::Done => return Ok(Some(done(connection))),
                InOne::Committed => return Ok(None),
                InOne::TooBig => {}
            }
        }
        job.armed = true;
        job.lease_until = 0;
        if !self.save_job(job).await? {
            return Err(StoreError::Corrupt(
                "a fresh job changed under its request".into(),
            ));
        }
        Ok(Some(Attempt::Done(LinkOutcome::Job(Box::new(job.view())))))
    }

    /// The user and the new referrer again, the user's settled counts and both trees'
    /// epochs, in one round trip.
    async fn read_under_fence(
        &self,
        job: &JobItem,
        referrer: Option<&UserId>,
    ) -> Result<UnderFence, StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let (user, source, dest) = job.users()?;
        let k_user = keys::membership(&net, &prog, &user);
        let k_ref = referrer.map(|r| keys::membership(&net, &prog, r));
        let k_counts = count_keys(&net, &prog, &user);
        let (k_src, k_dest) = (
            keys::fence(&net, &prog, &source, 0),
            keys::fence(&net, &prog, &dest, 0),
        );
        let mut wanted = vec![k_user.clone(), k_src.clone(), k_dest.clone()];
        wanted.extend(k_ref.clone());
        wanted.extend(k_counts.iter().cloned());
        let mut got = self.batch_get(&wanted).await?;
        let epoch = |item: Option<&super::super::Item>| -> Result<u64, StoreError> {
            Ok(item
                .map(super::fence::state_of)
                .transpose()?
                .map_or(0, |f| f.epoch()))
        };
        let (source_epoch, dest_epoch) = (epoch(got.get(&k_src))?, epoch(got.get(&k_dest))?);
        let counts = counts_from(&mut got, &k_counts)?;
        Ok(UnderFence {
            user: Member::read(&user, got.remove(&k_user))?,
            referrer: match (referrer, k_ref) {
                (Some(r), Some(k)) => Some(Member::read(r, got.remove(&k))?),
                _ => None,
            },
            counted: counts.levels.iter().sum(),
            source_epoch,
            dest_epoch,
        })
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

    /// The whole move in one transaction when it fits, with the job armed in it, then its
    /// pending members and the lowering of its fence.
    async fn move_in_one(
        &self,
        job: &mut JobItem,
        referrer_profile: Option<&ProfileItem>,
        fresh: &UnderFence,
    ) -> Result<InOne, StoreError> {
        let t = MoveTarget::of(job)?;
        let Some(subtree) = self
            .load_subtree(&t.net, &t.prog, &t.user, IN_REQUEST)
            .await?
        else {
            return Ok(InOne::TooBig);
        };
        let mut groups =
            self.top_items(job, referrer_profile, &fresh.user, fresh.referrer.as_ref())?;
        for (m, depth) in &subtree {
            groups.push(self.rewrite_items(&t, m, &t.moved(&m.view, *depth), *depth)?);
        }
        let mut txs = pack(groups);
        if txs.len() != 1 || txs[0].len() + 2 > MAX_TX_ITEMS {
            return Ok(InOne::TooBig);
        }
        let mut tx = txs.remove(0);
        let ours = FenceState::Raised {
            job: job.id.clone(),
            epoch: fresh.source_epoch,
        };
        tx.push(self.fence_check(&t.net, &t.prog, &t.source, 0, &ours)?);
        let before = job.clone();
        job.moved = subtree.len() as u64 + 1;
        job.total = job.moved;
        job.armed = true;
        job.lease_until = now_ms() + LEASE_MS;
        job.state = Phase::Pending {
            shard: 0,
            after: None,
            fixed: false,
        };
        tx.push(self.job_update_item(job)?);
        match self.transact(tx).await {
            Ok(()) => {}
            // A member changed meanwhile (a first referee, say): the job redoes it carefully.
            Err(TxError::Cancelled(_)) => {
                *job = before;
                return Ok(InOne::TooBig);
            }
            Err(TxError::Store(e)) => {
                *job = before;
                return Err(e);
            }
        }
        match self.finish_job(job).await {
            Ok(()) => Ok(InOne::Done),
            Err(e) => {
                tracing::warn!(job = %job.id, error = %crate::telemetry::error_chain(&e), "a committed move is left for the worker to finish");
                Ok(InOne::Committed)
            }
        }
    }

    /// The moving user's own rewrite, the new referrer's marks, and the profile counts. A
    /// move (not a removal) also requires that neither party is banned when it commits.
    pub(crate) fn top_items(
        &self,
        job: &JobItem,
        referrer_profile: Option<&ProfileItem>,
        u: &Member,
        r: Option<&Member>,
    ) -> Result<Vec<Vec<TransactWriteItem>>, StoreError> {
        let t = MoveTarget::of(job)?;
        let (net, user) = (&t.net, &t.user);
        let now = clock::now();
        let next = MemberView {
            referrer: job.referrer.as_deref().map(items::user_id).transpose()?,
            upline: t.new_top.clone(),
            root: t.new_root.clone(),
            tree_epoch: job.dest_epoch,
            connected_ns: job.connected_ns,
            moved_by: Some(job.id.clone()),
            ..u.view.clone()
        };
        let mut base = u.item.clone();
        base.metadata = job.metadata.clone().or(base.metadata);
        base.connected_at = Some(clock::rfc3339(job.connected_ns));
        base.via_code = None;
        let top = Member {
            item: base,
            view: u.view.clone(),
            seen: u.seen,
        };
        let mut g = self.rewrite_items(&t, &top, &next, 0)?;
        match (u.view.referrer.is_some(), next.referrer.is_some()) {
            (false, true) => {
                g.push(self.profile_counts(net, user, "links", 1, Seen::Unknown, &now)?)
            }
            (true, false) => g.push(self.profile_unlink(net, user)?),
            (true, true) => g.push(self.profile_not_banned(net, user)?),
            (false, false) => {}
        }
        let mut groups = vec![g];
        if let (Some(rid), Some(r)) = (next.referrer.as_ref(), r) {
            let mut rg = Vec::new();
            let marked = MemberView {
                kids: true,
                connected_ns: if r.exists() {
                    r.view.connected_ns
                } else {
                    now.ns
                },
                ..r.view.clone()
            };
            rg.push(self.member_put(net, &t.prog, &r.item, &marked, r.seen)?);
            if !r.exists() || !r.view.kids {
                let seen = Seen::from(referrer_profile);
                rg.push(self.profile_counts(net, rid, "links", 1, seen, &now)?);
            } else {
                rg.push(self.profile_not_banned(net, rid)?);
            }
            groups.push(rg);
        }
        Ok(groups)
    }
}

/// How a move within the request ended.
enum InOne {
    /// Moved, and its fence is down.
    Done,
    /// Moved, but its pending members or its fence are left to the job.
    Committed,
    /// Larger than one transaction, or changed meanwhile: nothing written.
    TooBig,
}
