//! Accepting an event: one read (the key and the user), one conditional write. The rewards
//! come later, from the stream.

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::users::ProfileItem;
use super::super::{items, keys, Expr, Item, Store, StoreError};
use super::{EventItem, RewardItem};
use crate::clock;
use crate::domain::reward::EventFacts;
use crate::domain::{NetworkId, UserId};

pub enum Accept {
    Auth(AuthFailure),
    UserNotFound,
    UserBanned,
    Accepted(EventItem),
    /// The same event again: the one stored.
    Replayed(EventItem),
    /// The id is taken by an event with another body.
    Reused,
}

/// What a repeat must match: the body's fields, with defaults filled in.
fn same_body(a: &EventItem, b: &EventItem) -> bool {
    (&a.user, &a.event, a.amount_usd_cents, &a.metadata)
        == (&b.user, &b.event, b.amount_usd_cents, &b.metadata)
}

impl Store {
    pub async fn accept_event(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        user: &UserId,
        facts: &EventFacts,
    ) -> Result<Accept, StoreError> {
        let k_profile = keys::profile(net, user);
        let got = self
            .batch_get(&[probe.key.clone(), k_profile.clone()])
            .await?;
        if let Err(f) = check_key(got.get(&probe.key), net) {
            return Ok(Accept::Auth(f));
        }
        let Some(profile) = got.get(&k_profile) else {
            return Ok(Accept::UserNotFound);
        };
        let profile: ProfileItem = items::from_item(profile.clone())?;
        if profile.banned() {
            return Ok(Accept::UserBanned);
        }
        let now = clock::now();
        let event = EventItem {
            network_id: net.as_str().to_owned(),
            event_id: facts.event_id.clone(),
            user: user.as_str().to_owned(),
            event: facts.event.clone(),
            amount_usd_cents: facts.amount_usd_cents,
            metadata: facts.metadata.clone(),
            accepted_at: now.rfc3339,
            accepted_ns: now.ns,
            program_id: None,
            upline: None,
            settled: false,
            rewards: Vec::new(),
            reversed_at: None,
            reverse_reason: None,
            reversal_done: false,
        };
        match self.put_event(net, &event).await? {
            None => Ok(Accept::Accepted(event)),
            Some(old) if same_body(&old, &event) => Ok(Accept::Replayed(old)),
            Some(_) => Ok(Accept::Reused),
        }
    }

    /// Puts a new event; the stored one when its id is taken.
    pub(crate) async fn put_event(
        &self,
        net: &NetworkId,
        event: &EventItem,
    ) -> Result<Option<EventItem>, StoreError> {
        let key = keys::event(net, &event.event_id);
        let mut e = Expr::new();
        let cond = format!("attribute_not_exists({})", e.n(keys::PK));
        let item = items::with_key(items::to_item(event)?, &key);
        match self.put_new(item, &cond, &e).await? {
            None => Ok(None),
            Some(old) => Ok(Some(items::from_item(old)?)),
        }
    }

    /// An event and the rewards it earned: the key and the event, then the rewards.
    pub async fn get_event(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        event_id: &str,
    ) -> Result<Result<Option<(EventItem, Vec<RewardItem>)>, AuthFailure>, StoreError> {
        let k_event = keys::event(net, event_id);
        let mut got = self
            .batch_get(&[probe.key.clone(), k_event.clone()])
            .await?;
        if let Err(f) = check_key(got.get(&probe.key), net) {
            return Ok(Err(f));
        }
        let Some(item) = got.remove(&k_event) else {
            return Ok(Ok(None));
        };
        let event: EventItem = items::from_item(item)?;
        let wanted: Vec<_> = event
            .rewards
            .iter()
            .map(|id| keys::reward(net, id))
            .collect();
        let mut rewards: Vec<RewardItem> = if wanted.is_empty() {
            Vec::new()
        } else {
            self.batch_get(&wanted)
                .await?
                .into_values()
                .map(items::from_item::<RewardItem>)
                .collect::<Result<_, _>>()?
        };
        rewards.sort_by(|a, b| {
            (&a.program_id, &a.rule_id, a.level).cmp(&(&b.program_id, &b.rule_id, b.level))
        });
        Ok(Ok(Some((event, rewards))))
    }
}

/// The event item of a stream image.
pub fn event_of(item: Item) -> Result<EventItem, StoreError> {
    items::from_item(item)
}
