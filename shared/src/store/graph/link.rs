//! A connection: one BatchGetItem, then one TransactWriteItems at any depth.
//!
//! A user without referees (nearly every signup) is linked by a transaction of its own items:
//! its membership and profile, its edges (fresh keys), one fence shard of the referrer's tree,
//! and, through a code, one code shard and a history row. The referrer's membership and profile
//! join only for its first referee, to mark it as a possible ancestor; the program and the
//! referrer's profile are read, not checked. A user with referees moves with its subtree.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::codes::{CodeItem, ShardAdds};
use super::super::shards::Lease;
use super::super::users::{ProfileItem, Seen};
use super::super::{items, keys, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use super::fence::FenceState;
use super::Member;
use crate::clock;

use crate::domain::link::{judge, plan_plain, LinkFacts, LinkMode, PlainFacts, Refusal, Verdict};
use crate::domain::shards::{CODE_SHARDS, FENCE_SHARDS};
use crate::domain::{Level, NetworkId, Program, ProgramId, ReferralCode, UserId};

pub struct LinkRequest<'a> {
    pub net: &'a NetworkId,
    pub program: &'a ProgramId,
    pub user: &'a UserId,
    pub referrer: &'a UserId,
    /// The code the link goes through; one of its shards counts the link.
    pub code: Option<&'a ReferralCode>,
    pub metadata: Option<String>,
    pub mode: LinkMode,
}

impl<'a> LinkRequest<'a> {
    pub fn new(
        net: &'a NetworkId,
        program: &'a ProgramId,
        user: &'a UserId,
        referrer: &'a UserId,
    ) -> Self {
        LinkRequest {
            net,
            program,
            user,
            referrer,
            code: None,
            metadata: None,
            mode: LinkMode::Add,
        }
    }

    /// Every item a link reads.
    pub fn keys(&self) -> Vec<Key> {
        let mut k = vec![
            keys::program(self.net, self.program),
            keys::membership(self.net, self.program, self.user),
            keys::membership(self.net, self.program, self.referrer),
            keys::profile(self.net, self.user),
            keys::profile(self.net, self.referrer),
        ];
        k.extend(self.code.map(keys::code));
        k
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub program_id: ProgramId,
    pub user: UserId,
    pub referrer: UserId,
    /// Cut at the program's max_levels.
    pub upline: Vec<UserId>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// `created` is false for an exact replay, or a change to the referrer the user had.
    Linked {
        connection: Box<Connection>,
        created: bool,
        user_was_new: bool,
    },
    /// The user's referrer was removed, with its subtree moving along.
    Removed,
    /// Too large for one transaction: a move job carries it out.
    Job(Box<super::super::jobs::JobView>),
    Refused(Refusal),
    Auth(AuthFailure),
}

/// What one strongly consistent read shows of everything a link touches.
pub struct LinkSnapshot {
    pub program: Option<Program>,
    pub code: Option<CodeItem>,
    pub user: Member,
    pub referrer: Member,
    pub user_profile: Option<ProfileItem>,
    pub referrer_profile: Option<ProfileItem>,
}

impl LinkSnapshot {
    /// Takes the link's items out of a read.
    pub fn take(req: &LinkRequest<'_>, got: &mut HashMap<Key, Item>) -> Result<Self, StoreError> {
        let profile = |got: &mut HashMap<Key, Item>, u: &UserId| {
            got.remove(&keys::profile(req.net, u))
                .map(items::from_item::<ProfileItem>)
                .transpose()
        };
        Ok(LinkSnapshot {
            program: got
                .remove(&keys::program(req.net, req.program))
                .map(items::program)
                .transpose()?,
            code: match req.code {
                Some(c) => got
                    .remove(&keys::code(c))
                    .map(items::from_item::<CodeItem>)
                    .transpose()?
                    .filter(|c| c.network_id == req.net.as_str()),
                None => None,
            },
            user: Member::read(
                req.user,
                got.remove(&keys::membership(req.net, req.program, req.user)),
            )?,
            referrer: Member::read(
                req.referrer,
                got.remove(&keys::membership(req.net, req.program, req.referrer)),
            )?,
            user_profile: profile(got, req.user)?,
            referrer_profile: profile(got, req.referrer)?,
        })
    }

    pub fn judge(&self, req: &LinkRequest<'_>) -> Result<Verdict, StoreError> {
        let code = match (&req.code, &self.code) {
            (None, _) => None,
            (Some(_), None) => Some(None),
            (Some(_), Some(c)) => Some(Some(c.clone().into_code(Default::default())?)),
        };
        let facts = LinkFacts {
            program: self.program.as_ref(),
            code: code.as_ref().map(Option::as_ref),
            user: self.user.exists().then_some(&self.user.view),
            referrer: self.referrer.exists().then_some(&self.referrer.view),
            user_banned: self.user_profile.as_ref().is_some_and(ProfileItem::banned),
            referrer_banned: self
                .referrer_profile
                .as_ref()
                .is_some_and(ProfileItem::banned),
        };
        Ok(judge(req.mode, req.program, req.user, req.referrer, &facts))
    }

    /// The connection as the user's membership stores it (a replay).
    pub fn stored_connection(&self, req: &LinkRequest<'_>) -> Connection {
        let max = self
            .program
            .as_ref()
            .map_or(Level::MAX, |p| p.max_levels)
            .depth();
        Connection {
            program_id: req.program.clone(),
            user: req.user.clone(),
            referrer: req.referrer.clone(),
            upline: self.user.view.upline.iter().take(max).cloned().collect(),
            created_at: self.user.item.connected_at.clone().unwrap_or_default(),
        }
    }
}

/// What a failed attempt learned about the referrer's tree fence.
#[derive(Clone, Debug, Default)]
pub struct LinkHint {
    fence: Option<(UserId, FenceState)>,
}

/// A plain link's transaction items, and where the ones a cancellation is read by sit.
pub struct PlainPlan {
    pub tx: Vec<TransactWriteItem>,
    pub connection: Connection,
    fence_at: Option<usize>,
    code_at: Option<(usize, usize)>,
}

impl Store {
    pub async fn link(
        &self,
        req: &LinkRequest<'_>,
        probe: Option<&KeyProbe>,
    ) -> Result<LinkOutcome, StoreError> {
        let hint = std::sync::Mutex::new(LinkHint::default());
        self.retrying(|attempt| {
            let probe = probe.filter(|_| attempt == 0);
            let hint = &hint;
            async move { self.link_attempt(req, probe, hint).await }
        })
        .await
    }

    async fn link_attempt(
        &self,
        req: &LinkRequest<'_>,
        probe: Option<&KeyProbe>,
        hint_slot: &std::sync::Mutex<LinkHint>,
    ) -> Result<Attempt<LinkOutcome>, StoreError> {
        let hint = hint_slot.lock().map(|h| h.clone()).unwrap_or_default();
        let mut wanted = req.keys();
        wanted.extend(probe.map(|p| p.key.clone()));
        let mut got = self.batch_get(&wanted).await?;
        if let Some(p) = probe {
            if let Err(f) = check_key(got.get(&p.key), req.net) {
                return Ok(Attempt::Done(LinkOutcome::Auth(f)));
            }
        }
        let snap = LinkSnapshot::take(req, &mut got)?;
        match snap.judge(req)? {
            Verdict::Refused(r) => Ok(Attempt::Done(LinkOutcome::Refused(r))),
            Verdict::Replay => Ok(Attempt::Done(LinkOutcome::Linked {
                connection: Box::new(snap.stored_connection(req)),
                created: false,
                user_was_new: snap.user_profile.is_none(),
            })),
            Verdict::Move => self.move_attempt(req, &snap).await,
            Verdict::Plain => {
                let lease = self.picker().lease();
                let now = clock::now();
                let plan = match self.plain_items(
                    req,
                    &snap,
                    &hint,
                    &lease,
                    &now,
                    ShardAdds::default(),
                )? {
                    Ok(p) => p,
                    Err(r) => return Ok(Attempt::Done(LinkOutcome::Refused(r))),
                };
                match self.transact(plan.tx).await {
                    Ok(()) => Ok(Attempt::Done(LinkOutcome::Linked {
                        connection: Box::new(plan.connection),
                        created: true,
                        user_was_new: snap.user_profile.is_none(),
                    })),
                    Err(TxError::Cancelled(reasons)) => {
                        let learned = self
                            .learn(&snap, &plan.fence_at, &plan.code_at, &reasons, &lease, 0)
                            .await?;
                        if let Ok(mut h) = hint_slot.lock() {
                            *h = learned;
                        }
                        Ok(Attempt::Retry)
                    }
                    Err(TxError::Store(e)) => Err(e),
                }
            }
        }
    }

    pub(crate) fn picker(&self) -> &super::super::shards::ShardPicker {
        &self.picker
    }

    /// The items of a plain link: the user has no referees. `adds` is what the code shard
    /// counts besides the referral (a DeSo credit's totals). The rules are
    /// `domain::link::plan_plain`'s; this turns its plan into items.
    pub fn plain_items(
        &self,
        req: &LinkRequest<'_>,
        snap: &LinkSnapshot,
        hint: &LinkHint,
        lease: &Lease<'_>,
        now: &clock::Now,
        adds: ShardAdds,
    ) -> Result<Result<PlainPlan, Refusal>, StoreError> {
        let (net, prog) = (req.net, req.program);
        let r = &snap.referrer;
        let plan = plan_plain(
            req.referrer,
            &PlainFacts {
                user: &snap.user.view,
                referrer: &r.view,
                referrer_exists: r.exists(),
                fence_seen: hint.fence.as_ref(),
                max_levels: snap.program.as_ref().map_or(Level::MAX, |p| p.max_levels),
                now_ns: now.ns,
            },
        );
        let mut base = snap.user.item.clone();
        base.connected_at = Some(now.rfc3339.clone());
        base.metadata = req.metadata.clone().or(base.metadata);
        base.via_code = req.code.map(|c| c.as_str().to_owned());
        let mut tx = vec![self.member_put(net, prog, &base, &plan.user, snap.user.seen)?];
        for edge in &plan.gone {
            tx.push(self.edge_delete(net, prog, edge)?);
        }
        if plan.first_referrer {
            let seen = Seen::from(snap.user_profile.as_ref());
            tx.push(self.profile_counts(net, req.user, "links", 1, seen, now)?);
        }
        if let Some(next) = &plan.referrer {
            tx.push(self.member_put(net, prog, &r.item, next, r.seen)?);
        }
        if plan.first_referee {
            let seen = Seen::from(snap.referrer_profile.as_ref());
            tx.push(self.profile_counts(net, req.referrer, "links", 1, seen, now)?);
        }
        let mut fence_at = None;
        if let Some((root, state)) = &plan.fence {
            fence_at = Some(tx.len());
            let shard = lease.shard(FENCE_SHARDS);
            tx.push(self.fence_check(net, prog, root, shard, state)?);
        }
        if let Some(job) = &plan.pending_for {
            let key = keys::job_pending(job, now.ns, req.user);
            let item = Item::from([("user".to_owned(), s(req.user.as_str()))]);
            tx.push(self.tx_put(items::with_key(item, &key), None, &Expr::new(), false)?);
        }
        for edge in &plan.added {
            tx.push(self.edge_put(net, prog, edge)?);
        }
        let mut code_at = None;
        if let (Some(code), Some(item)) = (req.code, &snap.code) {
            let Some(shard) = self.code_shard_for(item, lease) else {
                return Ok(Err(Refusal::CodeUnavailable));
            };
            code_at = Some((tx.len(), shard));
            let adds = ShardAdds {
                referral: true,
                ..adds
            };
            tx.push(self.shard_count_item(item, shard, adds)?);
            let key = keys::code_referral(code, now.ns, req.user);
            let row = Item::from([
                ("user".to_owned(), s(req.user.as_str())),
                ("connected_at".to_owned(), s(&now.rfc3339)),
            ]);
            tx.push(self.tx_put(items::with_key(row, &key), None, &Expr::new(), false)?);
        }
        Ok(Ok(PlainPlan {
            tx,
            connection: Connection {
                program_id: prog.clone(),
                user: req.user.clone(),
                referrer: req.referrer.clone(),
                upline: plan.upline_shown,
                created_at: now.rfc3339.clone(),
            },
            fence_at,
            code_at,
        }))
    }

    /// A shard of `code` not known to be full, from the lease's on; None when all are.
    fn code_shard_for(&self, code: &CodeItem, lease: &Lease<'_>) -> Option<usize> {
        if let Some(caps) = code.shard_caps() {
            let empty = (0..CODE_SHARDS).filter(|k| caps[*k] == 0);
            self.picker().mark_full(&code.code, code.cfg_version, empty);
        }
        self.picker()
            .code_shard(&code.code, code.cfg_version, lease)
    }

    /// What a cancelled plain link teaches the next attempt; `offset` is where the plan's
    /// items start in the transaction. A full code shard has the whole code read once, so
    /// the next attempt knows every full shard, or that the code is.
    async fn learn(
        &self,
        snap: &LinkSnapshot,
        fence_at: &Option<usize>,
        code_at: &Option<(usize, usize)>,
        reasons: &[CancellationReason],
        lease: &Lease<'_>,
        offset: usize,
    ) -> Result<LinkHint, StoreError> {
        let mut hint = LinkHint::default();
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            self.picker().collided(lease);
        }
        if let Some(i) = fence_at.map(|i| i + offset) {
            if TxError::condition_failed(reasons, i) {
                let state = match TxError::old_item(reasons, i) {
                    Some(item) => super::fence::state_of(item)?,
                    None => FenceState::Clear { epoch: 0 },
                };
                hint.fence = Some((snap.referrer.view.root.clone(), state));
            }
        }
        if let (Some((i, shard)), Some(code)) = (code_at.map(|(i, k)| (i + offset, k)), &snap.code)
        {
            if let Some(old) = TxError::old_item(reasons, i) {
                let shard_item: super::super::codes::ShardItem = items::from_item(old.clone())?;
                if shard_item.active != Some(false) && shard_item.is_full() {
                    self.picker()
                        .mark_full(&code.code, code.cfg_version, [shard]);
                    self.learn_code_fill(code).await?;
                }
            }
        }
        Ok(hint)
    }

    /// For other modules that build on a plain link: what its cancellation teaches.
    pub async fn learn_from(
        &self,
        snap: &LinkSnapshot,
        plan: &PlainPlan,
        reasons: &[CancellationReason],
        lease: &Lease<'_>,
        offset: usize,
    ) -> Result<LinkHint, StoreError> {
        self.learn(snap, &plan.fence_at, &plan.code_at, reasons, lease, offset)
            .await
    }
}
