//! A connection: one BatchGetItem, then one TransactWriteItems at any depth.
//!
//! A user without referees (nearly every signup) is linked by a transaction of its own items:
//! its membership and profile, its edges (fresh keys), one fence shard of the referrer's tree,
//! and, through a code, one code shard and a history row. The referrer's membership and profile
//! join only for its first referee, to mark it as a possible ancestor; the program and the
//! referrer's profile are read, not checked. A user with referees moves with its subtree.
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};

use super::fence::FenceState;
pub use super::snapshot::{Connection, LinkOutcome, LinkRequest, LinkSnapshot};
use crate::clock;
use crate::domain::code::CodeStatus;
use crate::domain::link::{plan_plain, PlainFacts, Refusal, Verdict};
use crate::domain::shards::{CODE_SHARDS, FENCE_SHARDS};
use crate::domain::{Level, UserId};
use crate::store::api_keys::{check_key, KeyProbe};
use crate::store::codes::{CodeItem, ShardAdds};
use crate::store::shards::Lease;
use crate::store::users::Seen;
use crate::store::{items, keys, s, Attempt, Expr, Item, Store, StoreError, TxError};

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

    pub(crate) fn picker(&self) -> &crate::store::shards::ShardPicker {
        &self.picker
    }

    /// The items of a plain link: the user has no referees. `adds` is what the code shard
    /// counts besides the referral (a DeSo credit's totals). The rules are
    /// `domain::link::plan_plain`'s; this turns its plan into items.
    pub(crate) fn plain_items(
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
                let ms = now.ns / 1_000_000;
                let why = CodeStatus::of(item.active, item.expires_ms, true, ms);
                return Ok(Err(Refusal::CodeUnavailable(why)));
            };
            code_at = Some((tx.len(), shard));
            let adds = ShardAdds {
                referral: true,
                ..adds
            };
            tx.push(self.shard_count_item(item, shard, adds, now.ns / 1_000_000)?);
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
            self.picker()
                .mark_full(&code.fill_key(), code.cfg_version, empty);
        }
        self.picker()
            .code_shard(&code.fill_key(), code.cfg_version, lease)
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
                let shard_item: crate::store::codes::ShardItem = items::from_item(old.clone())?;
                if shard_item.active != Some(false) && shard_item.is_full(crate::clock::now_ms()) {
                    self.picker()
                        .mark_full(&code.fill_key(), code.cfg_version, [shard]);
                    self.learn_code_fill(code).await?;
                }
            }
        }
        Ok(hint)
    }

    /// For other modules that build on a plain link: what its cancellation teaches.
    pub(crate) async fn learn_from(
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
