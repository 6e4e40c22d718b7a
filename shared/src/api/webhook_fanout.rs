//! The webhook fanout, fed by the table's stream on memberships, rewards, jobs, payouts,
//! profiles and code shards: each committed change that a message tells of becomes one
//! message per active webhook of its network that subscribed to its type.
//!
//! A message's id comes from the change (its commit time and what identifies it), and its
//! write is conditional: a batch retried, split or delivered twice writes nothing twice.
//! Nothing is sent from here; the sender (`webhook_sender`) attempts what is due.

use std::collections::HashMap;

use futures::StreamExt;
use lambda_http::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::{Error, LambdaEvent};
use serde_json::{json, Value};

use crate::domain::webhook::{self, connection_change, just_filled, EventType};
use crate::domain::{NetworkId, ReferralCode};
use crate::store::codes::ShardItem;
use crate::store::graph::MembershipItem;
use crate::store::jobs::{JobItem, JobStatus};
use crate::store::keys::{self, Prefix};
use crate::store::rewards::payouts::PayoutItem;
use crate::store::rewards::RewardItem;
use crate::store::users::ProfileItem;
use crate::store::webhooks::messages::MessageItem;
use crate::store::webhooks::WebhookItem;
use crate::store::StoreError;
use crate::{clock, AppState};

use super::stream_record::{key_text, maybe_image, sequence};

crate::lambda::handler!(Stream);

/// A message a change tells, before it is addressed to webhooks.
#[derive(Clone, Debug)]
pub struct Told {
    pub net: NetworkId,
    pub kind: EventType,
    pub id: String,
    pub body: String,
    pub at: String,
}

fn net_of(raw: &str) -> Result<NetworkId, StoreError> {
    NetworkId::try_from(raw).map_err(|_| StoreError::Corrupt(format!("network {raw}")))
}

/// What the record tells, if anything. Reads the table only for a code shard that filled.
async fn told(state: &AppState, r: &EventRecord) -> Result<Option<Told>, StoreError> {
    let (pk, sk) = (key_text(r, keys::PK), key_text(r, keys::SK));
    let commit_ms = u64::try_from(r.change.approximate_creation_date_time.timestamp_millis())
        .ok()
        .filter(|ms| *ms > 0)
        .unwrap_or_else(clock::now_ms);
    let at = clock::rfc3339(commit_ms.saturating_mul(1_000_000));
    let make = |net: NetworkId, kind: EventType, identity: String, data: Value| {
        Some(Told {
            id: webhook::message_id(commit_ms, &format!("{}|{identity}", kind.as_str())),
            body: webhook::body(kind, &at, data),
            net,
            kind,
            at: at.clone(),
        })
    };
    let old = &r.change.old_image;
    let new = &r.change.new_image;
    Ok(match Prefix::of(&pk) {
        Some(Prefix::Mem) => {
            let Some((net, prog, user)) = keys::parse_membership_pk(&pk) else {
                return Ok(None);
            };
            let before: Option<MembershipItem> = maybe_image(old)?;
            let after: Option<MembershipItem> = maybe_image(new)?;
            let was = before.as_ref().and_then(|m| m.referrer.as_deref());
            let now = after.as_ref().and_then(|m| m.referrer.as_deref());
            let gen = after.as_ref().or(before.as_ref()).map_or(0, |m| m.gen);
            let Some(kind) = connection_change(was, now) else {
                return Ok(None);
            };
            let data = match (kind, &after) {
                (EventType::ConnectionCreated, Some(m)) => json!({
                    "program_id": prog, "user": user, "referrer": m.referrer,
                    "upline": m.upline, "code": m.via_code, "created_at": m.connected_at,
                }),
                (EventType::ConnectionMoved, Some(m)) => json!({
                    "program_id": prog, "user": user, "referrer": m.referrer,
                    "previous_referrer": was, "job_id": m.moved_by,
                }),
                _ => json!({ "program_id": prog, "user": user, "previous_referrer": was }),
            };
            // A new connection is known by its time, which `refnet-admin check` can reread.
            let identity = match (kind, &after) {
                (EventType::ConnectionCreated, Some(m)) => format!("{pk}|{}", m.connected_ns),
                _ => format!("{pk}|{gen}"),
            };
            make(net_of(net)?, kind, identity, data)
        }
        Some(Prefix::Rwd) => {
            let Some(after) = maybe_image::<RewardItem>(new)? else {
                return Ok(None);
            };
            let before: Option<RewardItem> = maybe_image(old)?;
            let (kind, identity) = match &before {
                None => (EventType::RewardCreated, pk.clone()),
                Some(b) if b.status != after.status => (
                    EventType::RewardUpdated,
                    format!("{pk}|{}", after.status.as_str()),
                ),
                _ => return Ok(None),
            };
            let data =
                json!({ "reward": super::rewards_json::reward_json(&after, clock::now().ns) });
            make(net_of(&after.network_id)?, kind, identity, data)
        }
        Some(Prefix::Job) => {
            let Some(after) = maybe_image::<JobItem>(new)? else {
                return Ok(None);
            };
            let was_running =
                maybe_image::<JobItem>(old)?.is_none_or(|b| b.status == JobStatus::Running);
            if after.status == JobStatus::Running || !was_running {
                return Ok(None);
            }
            let data = json!({ "job": super::job_json(&after.view()) });
            make(net_of(&after.network_id)?, EventType::JobFinished, pk, data)
        }
        Some(Prefix::Pay) if sk == "PAY" => {
            let Some(after) = maybe_image::<PayoutItem>(new)? else {
                return Ok(None);
            };
            let was_running = maybe_image::<PayoutItem>(old)?.is_none_or(|b| b.status == "running");
            if after.status != "done" || !was_running {
                return Ok(None);
            }
            let data = json!({ "payout": super::payouts_json::payout_json(&after) });
            make(
                net_of(&after.network_id)?,
                EventType::PayoutFinished,
                pk,
                data,
            )
        }
        Some(Prefix::User) => {
            let Some(after) = maybe_image::<ProfileItem>(new)? else {
                return Ok(None);
            };
            let was = maybe_image::<ProfileItem>(old)?.is_some_and(|b| b.banned());
            if !after.banned() || was {
                return Ok(None);
            }
            let Some((net, _)) = Prefix::User.strip(&pk).and_then(|r| r.split_once('#')) else {
                return Ok(None);
            };
            make(
                net_of(net)?,
                EventType::UserBanned,
                pk.clone(),
                json!({ "user": after.user }),
            )
        }
        Some(Prefix::CodeShard) => {
            let (Some(after), before) = (
                maybe_image::<ShardItem>(new)?,
                maybe_image::<ShardItem>(old)?,
            ) else {
                return Ok(None);
            };
            let before = before.map_or(0, |b| b.total_referrals);
            if !just_filled(after.cap, before, after.total_referrals) {
                return Ok(None);
            }
            let Some(code) = Prefix::CodeShard
                .strip(&pk)
                .and_then(|r| r.rsplit_once('#'))
                .and_then(|(c, _)| ReferralCode::from_token(c).ok())
            else {
                return Ok(None);
            };
            let Some(c) = state.store.code_if_full(&code).await? else {
                return Ok(None);
            };
            let data = json!({
                "code": c.code, "program_id": c.program_id, "user": c.owner,
                "max_referrals": c.max_referrals,
            });
            // Whichever shard filled last, the message is the code's: its id takes the code's
            // creation time, not the commit's, so two records of one fill make one message.
            let identity = format!("{}|{}|{}", c.code, c.cfg_version, c.max_referrals);
            let kind = EventType::CodeExhausted;
            Some(Told {
                id: webhook::message_id(
                    c.created_ns / 1_000_000,
                    &format!("{}|{identity}", kind.as_str()),
                ),
                body: webhook::body(kind, &at, data),
                net: net_of(&c.network_id)?,
                kind,
                at,
            })
        }
        _ => None,
    })
}

/// Writes a told message for every webhook of its network that takes it.
async fn address(
    state: &AppState,
    told: &Told,
    hooks: &[WebhookItem],
    now_ms: u64,
) -> Result<(), StoreError> {
    for h in hooks
        .iter()
        .filter(|h| h.active && webhook::subscribed(&h.events, told.kind))
    {
        let m = MessageItem::new(
            &told.net,
            &h.webhook_id,
            &told.id,
            told.kind.as_str(),
            told.body.clone(),
            &told.at,
            now_ms,
        );
        state.store.put_message(&m).await?;
    }
    Ok(())
}

async fn write_told(
    state: &AppState,
    found: &Result<Option<Told>, StoreError>,
    hooks: &HashMap<NetworkId, Result<Vec<WebhookItem>, StoreError>>,
    now_ms: u64,
) -> Result<(), String> {
    match found {
        Err(e) => Err(e.to_string()),
        Ok(None) => Ok(()),
        Ok(Some(t)) => match hooks.get(&t.net) {
            Some(Ok(h)) => address(state, t, h, now_ms)
                .await
                .map_err(|e| e.to_string()),
            Some(Err(e)) => Err(e.to_string()),
            None => Ok(()),
        },
    }
}

pub async fn handle(
    state: &AppState,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let records = event.payload.records;
    // What each record tells, 16 reads at a time, in the batch's order.
    let reads: Vec<_> = records.iter().map(|r| told(state, r)).collect();
    let found: Vec<Result<Option<Told>, StoreError>> =
        futures::stream::iter(reads).buffered(16).collect().await;
    let mut hooks: HashMap<NetworkId, Result<Vec<WebhookItem>, StoreError>> = HashMap::new();
    for t in found.iter().flatten().flatten() {
        if !hooks.contains_key(&t.net) {
            let got = state.store.network_webhooks(&t.net).await;
            hooks.insert(t.net.clone(), got);
        }
    }
    let now_ms = clock::now_ms();
    let writes: Vec<_> = found
        .iter()
        .map(|f| write_told(state, f, &hooks, now_ms))
        .collect();
    let written: Vec<Result<(), String>> =
        futures::stream::iter(writes).buffered(16).collect().await;
    let mut failed = Vec::new();
    for (r, w) in records.iter().zip(written) {
        if let Err(e) = w {
            tracing::warn!(error = %e, "webhook fanout: a record is retried");
            failed.push(sequence(r));
        }
    }
    Ok(crate::lambda::batch_failures(failed))
}
