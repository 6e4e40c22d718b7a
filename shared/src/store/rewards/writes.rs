//! A reward's three items, written together: the canonical one (by its derived id, in the
//! unpaid index while payable), the beneficiary's copy (its list and balance) and the
//! program's copy (the review queue).

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::super::{items, keys, s, Expr, Item, Key, Store, StoreError};
use super::RewardItem;
use crate::domain::reward::RewardStatus;
use crate::domain::{NetworkId, ProgramId};

pub struct RewardKeys {
    pub canonical: Key,
    pub user_copy: Key,
    pub program_copy: Key,
}

pub fn reward_keys(net: &NetworkId, r: &RewardItem) -> Result<RewardKeys, StoreError> {
    let user = items::user_id(&r.user)?;
    let referee = items::user_id(&r.referee)?;
    let prog =
        ProgramId::try_from(r.program_id.as_str()).map_err(|_| items::corrupt("reward program"))?;
    Ok(RewardKeys {
        canonical: keys::reward(net, &r.reward_id),
        user_copy: keys::user_reward(net, &user, &referee, r.created_ns, &r.reward_id),
        program_copy: keys::program_reward(net, &prog, &referee, r.created_ns, &r.reward_id),
    })
}

/// The change index's keys of a user copy changed now.
fn changed_keys(net: &NetworkId, r: &RewardItem) -> Result<(String, String), StoreError> {
    let user = items::user_id(&r.user)?;
    Ok(keys::changed_reward(
        net,
        &user,
        crate::clock::now_ms(),
        &r.reward_id,
    ))
}

/// A user copy in the change index.
fn changed(net: &NetworkId, r: &RewardItem, mut item: Item) -> Result<Item, StoreError> {
    let (pk, sk) = changed_keys(net, r)?;
    item.insert(keys::GSI2PK.into(), s(pk));
    item.insert(keys::GSI2SK.into(), s(sk));
    Ok(item)
}

/// The reward's keys in the unpaid index, payable from `from_ns`.
fn unpaid_key(
    net: &NetworkId,
    r: &RewardItem,
    from_ns: u64,
) -> Result<(String, String), StoreError> {
    let prog =
        ProgramId::try_from(r.program_id.as_str()).map_err(|_| items::corrupt("reward program"))?;
    let referee = items::user_id(&r.referee)?;
    Ok(keys::unpaid(net, &prog, &referee, from_ns, &r.reward_id))
}

/// In a payout's reach: not voided, not paid, and worth something.
fn payable(r: &RewardItem) -> bool {
    matches!(r.status, RewardStatus::Pending | RewardStatus::Approved) && r.amount_usd_cents != 0
}

impl Store {
    /// A new reward: the canonical item only if absent (first), then its two copies.
    pub(crate) fn new_reward_items(
        &self,
        net: &NetworkId,
        r: &RewardItem,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let k = reward_keys(net, r)?;
        let item = items::to_item(r)?;
        let mut canonical = items::with_key(item.clone(), &k.canonical);
        if payable(r) {
            let (pk, sk) = unpaid_key(net, r, r.approvable_ns)?;
            canonical.insert(keys::GSI1PK.into(), s(pk));
            canonical.insert(keys::GSI1SK.into(), s(sk));
        }
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        Ok(vec![
            self.tx_put(canonical, Some(&absent), &e, false)?,
            self.tx_put(
                changed(net, r, items::with_key(item.clone(), &k.user_copy))?,
                None,
                &Expr::new(),
                false,
            )?,
            self.tx_put(
                items::with_key(item, &k.program_copy),
                None,
                &Expr::new(),
                false,
            )?,
        ])
    }

    /// `next`'s status (and payout, reason) over a reward stored as `seen` with no payout:
    /// the canonical item guarded by both (first), the copies following it.
    pub(crate) fn reward_status_items(
        &self,
        net: &NetworkId,
        next: &RewardItem,
        seen: RewardStatus,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let k = reward_keys(net, next)?;
        let update =
            |key: &Key, guard: bool| -> Result<(String, Option<String>, Expr), StoreError> {
                let mut e = Expr::new();
                let mut sets = vec![format!(
                    "{} = {}",
                    e.n("status"),
                    e.v(s(next.status.as_str()))
                )];
                if let Some(p) = &next.payout_id {
                    sets.push(format!("{} = {}", e.n("payout_id"), e.v(s(p.as_str()))));
                }
                if let Some(r) = &next.reason {
                    sets.push(format!("{} = {}", e.n("reason"), e.v(s(r.as_str()))));
                }
                if guard && seen == RewardStatus::Pending && next.status == RewardStatus::Approved {
                    // Approved by hand before its hold ends: payable from now on.
                    let (_, sk) = unpaid_key(net, next, crate::clock::now().ns)?;
                    sets.push(format!("{} = {}", e.n(keys::GSI1SK), e.v(s(sk))));
                }
                if key == &k.user_copy {
                    let (pk, sk) = changed_keys(net, next)?;
                    sets.push(format!("{} = {}", e.n(keys::GSI2PK), e.v(s(pk))));
                    sets.push(format!("{} = {}", e.n(keys::GSI2SK), e.v(s(sk))));
                }
                let mut update = format!("SET {}", sets.join(", "));
                let cond = if guard {
                    if !payable(next) {
                        update.push_str(&format!(
                            " REMOVE {}, {}",
                            e.n(keys::GSI1PK),
                            e.n(keys::GSI1SK)
                        ));
                    }
                    Some(format!(
                        "{} = {} AND attribute_not_exists({})",
                        e.n("status"),
                        e.v(s(seen.as_str())),
                        e.n("payout_id")
                    ))
                } else {
                    Some(format!("attribute_exists({})", e.n(keys::PK)))
                };
                Ok((update, cond, e))
            };
        let mut out = Vec::with_capacity(3);
        for (key, guard) in [
            (&k.canonical, true),
            (&k.user_copy, false),
            (&k.program_copy, false),
        ] {
            let (u, c, e) = update(key, guard)?;
            out.push(self.tx_update(key, &u, c.as_deref(), &e)?);
        }
        Ok(out)
    }
}
