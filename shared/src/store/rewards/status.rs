//! Approve and void: a reward's status moves on its canonical item, guarded by the status it
//! was read with and by having no payout, and its copies follow in the same transaction. A
//! payout racing an approve or a void therefore leaves the reward paid or voided, never both.

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::{items, keys, Attempt, Store, StoreError, TxError};
use super::RewardItem;
use crate::domain::reward::{status_at, RewardStatus};
use crate::domain::NetworkId;

#[derive(Clone, Debug)]
pub enum StatusChange {
    Approve,
    Void { reason: Option<String> },
}

pub enum Changed {
    Auth(AuthFailure),
    NotFound,
    /// The reward's status forbids the change (voided for an approve, paid for either).
    Refused(RewardStatus),
    /// The reward as it stands now, changed or found as asked.
    Done(Box<RewardItem>),
}

/// What `change` makes of a reward shown as `shown`: None when it already is.
fn next_status(
    change: &StatusChange,
    shown: RewardStatus,
) -> Result<Option<RewardStatus>, RewardStatus> {
    use RewardStatus::*;
    match (change, shown) {
        (_, Paid) => Err(Paid),
        (StatusChange::Approve, Voided) => Err(Voided),
        (StatusChange::Approve, Approved) | (StatusChange::Void { .. }, Voided) => Ok(None),
        (StatusChange::Approve, Pending) => Ok(Some(Approved)),
        (StatusChange::Void { .. }, Pending | Approved) => Ok(Some(Voided)),
    }
}

impl Store {
    pub async fn change_reward(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        reward_id: &str,
        change: &StatusChange,
        now_ns: u64,
    ) -> Result<Changed, StoreError> {
        let k = keys::reward(net, reward_id);
        self.retrying(|_| {
            let k = &k;
            async move {
                let mut got = self.batch_get(&[probe.key.clone(), k.clone()]).await?;
                if let Err(f) = check_key(got.get(&probe.key), net) {
                    return Ok(Attempt::Done(Changed::Auth(f)));
                }
                let Some(item) = got.remove(k) else {
                    return Ok(Attempt::Done(Changed::NotFound));
                };
                let r: RewardItem = items::from_item(item)?;
                let shown = status_at(r.status, r.approvable_ns, now_ns);
                let status = match next_status(change, shown) {
                    Err(why) => return Ok(Attempt::Done(Changed::Refused(why))),
                    Ok(None) => return Ok(Attempt::Done(Changed::Done(Box::new(r)))),
                    Ok(Some(s)) => s,
                };
                let mut next = r.clone();
                next.status = status;
                if let StatusChange::Void { reason: Some(why) } = change {
                    next.reason = Some(why.clone());
                }
                let tx = self.reward_status_items(net, &next, r.status)?;
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(Changed::Done(Box::new(next)))),
                    // Changed since the read (a payout, another call): decide again.
                    Err(TxError::Cancelled(_)) => Ok(Attempt::Retry),
                    Err(TxError::Store(e)) => Err(e),
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RewardStatus::*;

    #[test]
    fn the_contract_s_status_table() {
        let void = StatusChange::Void { reason: None };
        let approve = StatusChange::Approve;
        assert_eq!(next_status(&approve, Pending), Ok(Some(Approved)));
        assert_eq!(next_status(&approve, Approved), Ok(None));
        assert_eq!(next_status(&approve, Voided), Err(Voided));
        assert_eq!(next_status(&approve, Paid), Err(Paid));
        assert_eq!(next_status(&void, Pending), Ok(Some(Voided)));
        assert_eq!(next_status(&void, Approved), Ok(Some(Voided)));
        assert_eq!(next_status(&void, Voided), Ok(None));
        assert_eq!(next_status(&void, Paid), Err(Paid));
    }
}
