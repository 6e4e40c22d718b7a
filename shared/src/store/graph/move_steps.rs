//! A move job's steps, one per phase: the moving user itself, its members within ten levels
//! (by level, then edge shard), the members below them band by band, the members who joined
//! meanwhile, then the lowering of the fence. Each step reads, then writes under the
//! generations it read, and checkpoints; a step done twice after a crash changes nothing,
//! since every member it finished is marked with the job.

use super::move_job::Step;
use super::move_pages::PAGE;
use super::moves::MoveTarget;
use super::{unchanged, Member};
use crate::domain::graph::{upline_under, MemberView};
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::UserId;
use crate::store::jobs::{JobItem, Phase};
use crate::store::table::{pack, SortKey};
use crate::store::users::ProfileItem;
use crate::store::{items, keys, Expr, Store, StoreError, TxError};

impl Store {
    pub(super) async fn job_step(&self, job: &mut JobItem) -> Result<Step, StoreError> {
        let t = MoveTarget::of(job)?;
        match job.state.clone() {
            Phase::Top => self.step_top(job, &t).await,
            Phase::Near {
                level,
                shard,
                after,
            } => self.step_near(job, &t, level, shard, after).await,
            Phase::Deep {
                band,
                frontier_after,
                shard,
                after,
            } => {
                self.step_deep(job, &t, band, frontier_after, shard, after)
                    .await
            }
            Phase::Pending {
                shard,
                after,
                fixed,
            } => self.step_pending(job, &t, shard, after, fixed).await,
            Phase::Lower | Phase::Finished => self.lower_job(job).await,
        }
    }

    /// The moving user's own rewrite, unless done. A party banned, or a new referrer that
    /// moved, since the move began fails the job: nothing has changed yet.
    async fn step_top(&self, job: &mut JobItem, t: &MoveTarget) -> Result<Step, StoreError> {
        let referrer = job.referrer.as_deref().map(items::user_id).transpose()?;
        let (k_user, k_user_profile) = (
            keys::membership(&t.net, &t.prog, &t.user),
            keys::profile(&t.net, &t.user),
        );
        let k_ref = referrer.as_ref().map(|r| {
            (
                keys::membership(&t.net, &t.prog, r),
                keys::profile(&t.net, r),
            )
        });
        let mut wanted = vec![k_user.clone(), k_user_profile.clone()];
        if let Some((m, p)) = &k_ref {
            wanted.extend([m.clone(), p.clone()]);
        }
        let mut got = self.batch_get(&wanted).await?;
        let profile = |got: &mut std::collections::HashMap<_, _>, k| {
            got.remove(k)
                .map(items::from_item::<ProfileItem>)
                .transpose()
        };
        let u = Member::read(&t.user, got.remove(&k_user))?;
        let user_profile = profile(&mut got, &k_user_profile)?;
        if u.view.moved_by.as_deref() == Some(&job.id) {
            job.state = first_near();
            return Ok(Step::Advanced);
        }
        let (mut r, mut referrer_profile) = (None, None);
        if let (Some(rid), Some((km, kp))) = (&referrer, &k_ref) {
            let m = Member::read(rid, got.remove(km))?;
            referrer_profile = profile(&mut got, kp)?;
            if user_profile.as_ref().is_some_and(ProfileItem::banned) {
                let why = format!(
                    "user_banned: {} was banned before the move began; nothing changed",
                    t.user
                );
                return self.fail_job(job, &why).await;
            }
            if referrer_profile.as_ref().is_some_and(ProfileItem::banned) {
                let why = format!("user_banned: the new referrer {rid} was banned before the move began; nothing changed");
                return self.fail_job(job, &why).await;
            }
            let expected = upline_under(rid, &m.view.upline);
            let root_ok = if m.exists() {
                m.view.root == t.new_root
            } else {
                rid == &t.new_root
            };
            if expected != t.new_top || !root_ok {
                return self.fail_job(job, "the new referrer was moved while the move began; nothing changed, so send it again").await;
            }
            r = Some(m);
        }
        let groups = self.top_items(job, referrer_profile.as_ref(), &u, r.as_ref())?;
        for tx in pack(groups) {
            match self.transact(tx).await {
                Ok(()) => {}
                Err(TxError::Cancelled(_)) => return Ok(Step::Again),
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        job.moved += 1;
        job.total = job.total.max(job.moved);
        job.state = first_near();
        Ok(Step::Advanced)
    }

    /// Members who joined under a member the move had not rewritten yet: each is set from its
    /// referrer as it now stands. Passes repeat until one fixes nobody.
    async fn step_pending(
        &self,
        job: &mut JobItem,
        t: &MoveTarget,
        shard: u8,
        after: Option<String>,
        fixed: bool,
    ) -> Result<Step, StoreError> {
        let (mut shard, mut after) = (shard, after);
        let page = loop {
            let part = keys::job_pending_partition(&t.job, shard.into());
            let page = self
                .query_page(&part, &SortKey::All, after, Some(PAGE))
                .await?;
            if !page.items.is_empty() || (shard as usize) + 1 >= EDGE_SHARDS {
                break page;
            }
            (shard, after) = (shard + 1, None);
        };
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
    async fn fix_pending(&self, t: &MoveTarget, y: &UserId) -> Result<Option<bool>, StoreError> {
        let ym = self
            .members(&t.net, &t.prog, std::slice::from_ref(y))
            .await?
            .remove(0);
        let Some(p) = ym.view.referrer.clone() else {
            return Ok(Some(false));
        };
        let pm = self
            .members(&t.net, &t.prog, std::slice::from_ref(&p))
            .await?
            .remove(0);
        let next = MemberView {
            upline: upline_under(&p, &pm.view.upline),
            root: pm.view.root.clone(),
            tree_epoch: pm.view.tree_epoch,
            moved_by: Some(t.job.clone()),
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
        tx.push(self.tx_check(&keys::membership(&t.net, &t.prog, &p), &cond, &e)?);
        match self.transact(tx).await {
            Ok(()) => Ok(Some(true)),
            Err(TxError::Cancelled(_)) => Ok(None),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}

fn first_near() -> Phase {
    Phase::Near {
        level: 1,
        shard: 0,
        after: None,
    }
}
