//! Moving a user with referees: its whole subtree takes a new upline and root.
//!
//! The fence of the source tree goes up first (with the destination tree locked), in the
//! same transaction as the move's job item. Then the uplines are rewritten, each member with
//! its edges in one transaction and under its generation, the moving user first. Members who
//! join meanwhile under a member not yet rewritten leave a pending row that the move fixes.
//! Then the fence comes down. A move that fits in one transaction does all of this within the
//! request; a larger one answers 202 and its job finishes it.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::super::jobs::{new_job_id, now_ms, JobItem, JobStatus, Phase, LEASE_MS};
use super::super::table::pack;
use super::super::users::Seen;
use super::super::{Attempt, Store, StoreError, TxError, MAX_TX_ITEMS};
use super::fence::FenceState;
use super::link::{Connection, LinkOutcome, LinkRequest, LinkSnapshot};
use super::Member;
use crate::clock;
use crate::domain::graph::{edge_changes, moved_upline, upline_under, MemberView, MAX};
use crate::domain::link::Refusal;
use crate::domain::{NetworkId, ProgramId, UserId};

/// What a move sets, fixed once its fence is up.
pub struct MoveTarget<'a> {
    pub net: &'a NetworkId,
    pub prog: &'a ProgramId,
    pub job: &'a str,
    pub new_top: &'a [UserId],
    pub new_root: &'a UserId,
    pub dest_epoch: u64,
}

impl MoveTarget<'_> {
    /// The view of a member `depth` levels below the moving user after the move.
    pub fn moved(&self, m: &MemberView, depth: usize) -> MemberView {
        MemberView {
            upline: moved_upline(&m.upline, depth, self.new_top),
            root: self.new_root.clone(),
            tree_epoch: self.dest_epoch,
            moved_by: Some(self.job.to_owned()),
            ..m.clone()
        }
    }
}

impl Store {
    /// One member's rewrite with its edges: one group, committed together.
    pub fn rewrite_items(
        &self,
        t: &MoveTarget<'_>,
        m: &Member,
        next: &MemberView,
        depth: usize,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut g = vec![self.member_put(t.net, t.prog, &m.item, next, m.seen)?];
        let v = &m.view;
        let ns = (v.connected_ns, next.connected_ns);
        let (gone, added) = edge_changes(&v.user, ns, depth, &v.upline, &next.upline);
        for e in &gone {
            g.push(self.edge_delete(t.net, t.prog, e)?);
        }
        for e in &added {
            g.push(self.edge_put(t.net, t.prog, e)?);
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
            let Some(top) = cur.upline.get(MAX - 1).filter(|_| cur.upline.len() == MAX) else {
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
    /// when it fits in one transaction; otherwise hands the job to the worker.
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
        // Under the fence: read again, and refuse or step back if what we judged moved.
        let mut wanted = vec![user.clone()];
        wanted.extend(referrer.cloned());
        let fresh = self.members(net, prog, &wanted).await?;
        let (u, r) = (&fresh[0], fresh.get(1));
        let stale = u.view.root != source
            || u.view.referrer != snap.user.view.referrer
            || r.is_some_and(|r| r.exists() && &r.view.root != dest_root);
        let cycle = match r {
            Some(r) if r.exists() && dest_root == &source => {
                self.is_ancestor(net, prog, user, &r.view).await?
            }
            _ => false,
        };
        if stale || cycle {
            self.abandon(&mut job).await?;
            return Ok(if cycle {
                Attempt::Done(LinkOutcome::Refused(Refusal::Cycle))
            } else {
                Attempt::Retry
            });
        }
        job.dest_epoch = self.fence_state(net, prog, dest_root).await?.epoch();
        job.new_top = match (referrer, r) {
            (Some(rid), Some(r)) => upline_under(rid, &r.view.upline)
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect(),
            _ => Vec::new(),
        };
        let new_top = job.new_top()?;
        let max = snap.program.as_ref().map_or(10, |p| p.max_levels) as usize;
        let connection = referrer.map(|rid| Connection {
            program_id: prog.clone(),
            user: user.clone(),
            referrer: rid.clone(),
            upline: new_top.iter().take(max).cloned().collect(),
            created_at: now.rfc3339.clone(),
        });
        match self.move_in_one(&mut job, snap, u, r).await? {
            true => Ok(Attempt::Done(match connection {
                Some(c) => LinkOutcome::Linked {
                    connection: Box::new(c),
                    created: true,
                    user_was_new: false,
                },
                None => LinkOutcome::Removed,
            })),
            false => {
                // the user and its downline as it stands; members who join under it during
                // the move are added as they are moved
                job.total = self.count_edges(net, prog, user).await? + 1;
                job.lease_until = 0;
                if !self.save_job(&mut job).await? {
                    return Err(StoreError::Corrupt(
                        "a fresh job changed under its request".into(),
                    ));
                }
                Ok(Attempt::Done(LinkOutcome::Job(Box::new(job.view()))))
            }
        }
    }

    /// Lowers the fence of a move that will not happen, and forgets its job.
    async fn abandon(&self, job: &mut JobItem) -> Result<(), StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let (_, source, dest) = job.users()?;
        let mut tx = self.fence_lower(&net, &prog, &source, Some(&dest), &job.id)?;
        tx.push(self.job_delete_item(job)?);
        self.transact(tx).await.map_err(|e| match e {
            TxError::Store(e) => e,
            TxError::Cancelled(_) => StoreError::Corrupt("a move's own fence was taken".into()),
        })
    }

    /// The whole move in one transaction when it fits, then its pending members and the
    /// lowering of its fence. False when it does not fit: nothing was written.
    async fn move_in_one(
        &self,
        job: &mut JobItem,
        snap: &LinkSnapshot,
        u: &Member,
        r: Option<&Member>,
    ) -> Result<bool, StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let budget = MAX_TX_ITEMS - 8;
        let Some(subtree) = self
            .load_subtree(&net, &prog, &u.view.user, budget / 2)
            .await?
        else {
            return Ok(false);
        };
        let mut groups = self.top_items(job, snap.referrer_profile.as_ref(), u, r)?;
        let new_top = job.new_top()?;
        let (_, _, new_root) = job.users()?;
        let t = MoveTarget {
            net: &net,
            prog: &prog,
            job: &job.id,
            new_top: &new_top,
            new_root: &new_root,
            dest_epoch: job.dest_epoch,
        };
        for (m, depth) in &subtree {
            groups.push(self.rewrite_items(&t, m, &t.moved(&m.view, *depth), *depth)?);
        }
        let mut txs = pack(groups);
        if txs.len() != 1 {
            return Ok(false);
        }
        let mut tx = txs.remove(0);
        let (_, source, _) = job.users()?;
        let ours = FenceState::Raised {
            job: job.id.clone(),
            epoch: self.fence_state(&net, &prog, &source).await?.epoch(),
        };
        tx.push(self.fence_check(&net, &prog, &source, 0, &ours)?);
        match self.transact(tx).await {
            Ok(()) => {}
            // A member changed meanwhile (a first referee, say): the job redoes it carefully.
            Err(TxError::Cancelled(_)) => return Ok(false),
            Err(TxError::Store(e)) => return Err(e),
        }
        job.moved = subtree.len() as u64 + 1;
        job.total = job.moved;
        job.state = Phase::Pending {
            shard: 0,
            after: None,
            fixed: false,
        };
        self.finish_job(job).await?;
        Ok(true)
    }

    /// The moving user's own rewrite, the new referrer's marks, and the profile counts.
    pub(crate) fn top_items(
        &self,
        job: &JobItem,
        referrer_profile: Option<&super::super::users::ProfileItem>,
        u: &Member,
        r: Option<&Member>,
    ) -> Result<Vec<Vec<TransactWriteItem>>, StoreError> {
        let (net, prog) = (job.net()?, job.prog()?);
        let (user, _, new_root) = job.users()?;
        let now = clock::now();
        let new_top = job.new_top()?;
        let next = MemberView {
            referrer: job
                .referrer
                .as_deref()
                .map(super::super::items::user_id)
                .transpose()?,
            upline: new_top.clone(),
            root: new_root.clone(),
            tree_epoch: job.dest_epoch,
            connected_ns: job.connected_ns,
            moved_by: Some(job.id.clone()),
            ..u.view.clone()
        };
        let t = MoveTarget {
            net: &net,
            prog: &prog,
            job: &job.id,
            new_top: &new_top,
            new_root: &new_root,
            dest_epoch: job.dest_epoch,
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
                g.push(self.profile_counts(&net, &user, "links", 1, Seen::Unknown, &now)?)
            }
            (true, false) => g.push(self.profile_unlink(&net, &user)?),
            _ => {}
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
            rg.push(self.member_put(&net, &prog, &r.item, &marked, r.seen)?);
            if !r.exists() || !r.view.kids {
                let seen = Seen::from(referrer_profile);
                rg.push(self.profile_counts(&net, rid, "links", 1, seen, &now)?);
            }
            groups.push(rg);
        }
        Ok(groups)
    }
}

impl Store {
    /// Remove Referrer: the user becomes the root of its own subtree, which moves along.
    pub async fn remove_referrer(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        probe: Option<&super::super::api_keys::KeyProbe>,
    ) -> Result<LinkOutcome, StoreError> {
        self.retrying(|attempt| {
            let probe = probe.filter(|_| attempt == 0);
            async move {
                let req = LinkRequest::new(net, prog, user, user);
                let mut wanted = req.keys();
                wanted.extend(probe.map(|p| p.key.clone()));
                let mut got = self.batch_get(&wanted).await?;
                if let Some(p) = probe {
                    if let Err(f) = super::super::api_keys::check_key(got.get(&p.key), net) {
                        return Ok(Attempt::Done(LinkOutcome::Auth(f)));
                    }
                }
                let mut snap = LinkSnapshot::take(&req, &mut got)?;
                snap.referrer = Member::read(user, None)?;
                snap.referrer_profile = None;
                if snap.program.is_none() {
                    return Ok(Attempt::Done(LinkOutcome::Refused(
                        Refusal::ProgramNotFound,
                    )));
                }
                let u = &snap.user;
                if u.view.referrer.is_none() {
                    return Ok(Attempt::Done(LinkOutcome::Refused(Refusal::NotConnected)));
                }
                if u.view.kids {
                    return self
                        .fenced_move(net, prog, user, None, user, &snap, None)
                        .await;
                }
                // A leaf leaves alone: its item and its edges.
                let next = MemberView {
                    referrer: None,
                    upline: Vec::new(),
                    root: user.clone(),
                    tree_epoch: 0,
                    moved_by: None,
                    ..u.view.clone()
                };
                let mut base = u.item.clone();
                base.via_code = None;
                let mut tx = vec![self.member_put(net, prog, &base, &next, u.seen)?];
                for e in
                    crate::domain::graph::edges_of(user, u.view.connected_ns, &u.view.upline, 1)
                {
                    tx.push(self.edge_delete(net, prog, &e)?);
                }
                tx.push(self.profile_unlink(net, user)?);
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(LinkOutcome::Removed)),
                    Err(e) => e.retry(),
                }
            }
        })
        .await
    }
}
