//! A move within its request: under the fence, the request reads what the move relies on
//! again, sizes the subtree from the settled counts (or a capped probe), and either moves it
//! in one transaction that also arms the job, or arms the job for the worker.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::fence::FenceState;
use super::link::{Connection, LinkOutcome, LinkSnapshot};
use super::moves::MoveTarget;
use super::Member;
use crate::clock;
use crate::domain::graph::{upline_under, MemberView};
use crate::domain::link::Refusal;
use crate::domain::{Level, UserId};
use crate::store::counts::{count_keys, counts_from};
use crate::store::jobs::{now_ms, JobItem, Phase, LEASE_MS};
use crate::store::table::pack;
use crate::store::users::{ProfileItem, Seen};
use crate::store::{items, keys, Attempt, Store, StoreError, TxError, MAX_TX_ITEMS};

/// The members a request moves itself, at most: half a transaction, so that their edges fit.
const IN_REQUEST: usize = (MAX_TX_ITEMS - 8) / 2;

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
    /// The move once its fence is up. `Ok(None)` when the move committed but finishing it
    /// within the request failed: the armed job finishes it.
    pub(super) async fn move_under_fence(
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
        let epoch = |item: Option<&crate::store::Item>| -> Result<u64, StoreError> {
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
