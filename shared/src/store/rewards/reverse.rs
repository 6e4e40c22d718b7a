//! Reversing an event (a refund, a chargeback): the request stamps the event, once; the
//! rewards consumer then voids each pending or approved reward and claws back each paid one,
//! each exactly once (a void is guarded by the status read, a clawback's id comes from the
//! reward it reverses). A reversal accepted before the rewards are written is carried out
//! once they are: the consumer reverses only a settled event.

use aws_sdk_dynamodb::types::AttributeValue;

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::{items, keys, s, Attempt, Expr, Store, StoreError, TxError};
use super::{EventItem, RewardItem};
use crate::clock;
use crate::domain::reward::{clawback_id, RewardStatus};
use crate::domain::NetworkId;

pub enum Reversed {
    Auth(AuthFailure),
    NotFound,
    Done(Box<EventItem>),
}

impl Store {
    /// Stamps the event reversed, unless it is already.
    pub async fn reverse_event(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        event_id: &str,
        reason: Option<&str>,
    ) -> Result<Reversed, StoreError> {
        let k = keys::event(net, event_id);
        let got = self.batch_get(&[probe.key.clone(), k.clone()]).await?;
        if let Err(f) = check_key(got.get(&probe.key), net) {
            return Ok(Reversed::Auth(f));
        }
        let Some(item) = got.get(&k) else {
            return Ok(Reversed::NotFound);
        };
        let mut ev: EventItem = items::from_item(item.clone())?;
        if ev.reversed_at.is_some() {
            return Ok(Reversed::Done(Box::new(ev)));
        }
        let now = clock::now().rfc3339;
        let mut e = Expr::new();
        let at = e.n("reversed_at");
        let mut sets = vec![format!("{at} = {}", e.v(s(&now)))];
        if let Some(r) = reason {
            sets.push(format!("{} = {}", e.n("reverse_reason"), e.v(s(r))));
        }
        let cond = format!(
            "attribute_exists({}) AND attribute_not_exists({at})",
            e.n(keys::PK)
        );
        let update = format!("SET {}", sets.join(", "));
        if self.update_applies(&k, &update, &cond, &e).await? {
            // The event as written: the one read, stamped.
            ev.reversed_at = Some(now);
            ev.reverse_reason = reason.map(str::to_owned);
            return Ok(Reversed::Done(Box::new(ev)));
        }
        // Reversed meanwhile by another call: the event as it stands.
        match self.get(&k).await? {
            Some(item) => Ok(Reversed::Done(Box::new(items::from_item(item)?))),
            None => Ok(Reversed::NotFound),
        }
    }

    /// Voids or claws back every reward of a reversed, settled event, then marks it done.
    pub async fn carry_out_reversal(&self, ev: &EventItem) -> Result<(), StoreError> {
        let net = NetworkId::try_from(ev.network_id.as_str())
            .map_err(|_| items::corrupt("event network"))?;
        for id in &ev.rewards {
            self.reverse_reward(&net, id, ev.reverse_reason.as_deref())
                .await?;
        }
        let mut e = Expr::new();
        let update = format!(
            "SET {} = {}",
            e.n("reversal_done"),
            e.v(AttributeValue::Bool(true))
        );
        self.update_event(&net, &ev.event_id, &update, e).await
    }

    async fn reverse_reward(
        &self,
        net: &NetworkId,
        id: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let k = keys::reward(net, id);
        self.retrying(|_| {
            let k = &k;
            async move {
                let Some(item) = self.get(k).await? else {
                    return Ok(Attempt::Done(()));
                };
                let r: RewardItem = items::from_item(item)?;
                let tx = match r.status {
                    RewardStatus::Voided => return Ok(Attempt::Done(())),
                    RewardStatus::Pending | RewardStatus::Approved => {
                        let mut next = r.clone();
                        next.status = RewardStatus::Voided;
                        next.reason = reason.map(str::to_owned).or(Some("reversed".into()));
                        self.reward_status_items(net, &next, r.status)?
                    }
                    RewardStatus::Paid => {
                        let now = clock::now();
                        let claw = RewardItem {
                            reward_id: clawback_id(&r.reward_id),
                            amount_usd_cents: -r.amount_usd_cents,
                            status: RewardStatus::Approved,
                            created_at: now.rfc3339,
                            created_ns: now.ns,
                            approvable_ns: now.ns,
                            payout_id: None,
                            reverses: Some(r.reward_id.clone()),
                            reason: reason.map(str::to_owned),
                            ..r.clone()
                        };
                        self.new_reward_items(net, &claw)?
                    }
                };
                let clawing = r.status == RewardStatus::Paid;
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(())),
                    // The clawback exists: made by an earlier delivery.
                    Err(TxError::Cancelled(c)) if clawing && TxError::condition_failed(&c, 0) => {
                        Ok(Attempt::Done(()))
                    }
                    // Paid or changed since the read: decide again.
                    Err(e) => e.retry(),
                }
            }
        })
        .await
    }
}
