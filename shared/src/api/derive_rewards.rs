//! The rewards consumer, fed by the table's stream on memberships, events and reward copies:
//! - a membership that got its first referrer records the user's `signup` event;
//! - a new event earns its rewards and is marked settled; a reversed one, once settled, has
//!   its rewards voided or clawed back;
//! - a DeSo credit appears as paid rewards of rule `deso`;
//! - reward copies, new or changed, move their amounts between balance buckets, per batch, and
//!   between the program's leaderboard score buckets (`merge_boards` ranks them).
//!
//! Each is idempotent (`store::rewards`), so a batch retried, split or delivered twice ends
//! the same. It answers the records it could not apply, and the mapping retries them.

use futures::StreamExt;
use lambda_http::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::{Error, LambdaEvent};

use crate::domain::{NetworkId, ProgramId};
use crate::store::graph::MembershipItem;
use crate::store::keys::{self, Prefix};
use crate::store::rewards::balance::RewardState;
use crate::store::rewards::deso::CreditImage;
use crate::store::rewards::{EventItem, RewardItem};
use crate::store::StoreError;
use crate::AppState;

use super::stream_record::{image, key_text, sequence};

/// What one record asks of the consumer.
enum Work {
    Signup(NetworkId, ProgramId, Box<MembershipItem>),
    Settle(Box<EventItem>),
    Reverse(Box<EventItem>),
    Credit(NetworkId, Box<CreditImage>),
    Balance(Box<RewardState>),
    Nothing,
}

fn work_of(r: &EventRecord) -> Result<Work, StoreError> {
    let fresh = r.event_name == "INSERT";
    if !fresh && r.event_name != "MODIFY" {
        return Ok(Work::Nothing);
    }
    let (pk, sk) = (key_text(r, keys::PK), key_text(r, keys::SK));
    let bad = || StoreError::Corrupt(format!("not an item of the rewards: {pk}"));
    match Prefix::of(&pk) {
        Some(Prefix::Mem) => {
            let new: MembershipItem = image(&r.change.new_image)?;
            let old: Option<MembershipItem> = if fresh || r.change.old_image.is_empty() {
                None
            } else {
                Some(image(&r.change.old_image)?)
            };
            if !crate::store::rewards::derive::gained_referrer(old.as_ref(), &new) {
                return Ok(Work::Nothing);
            }
            let (net, prog, _) = keys::parse_membership_pk(&pk).ok_or_else(bad)?;
            Ok(Work::Signup(
                NetworkId::try_from(net).map_err(|_| bad())?,
                ProgramId::try_from(prog).map_err(|_| bad())?,
                Box::new(new),
            ))
        }
        Some(Prefix::Evt) => {
            let ev: EventItem = image(&r.change.new_image)?;
            if fresh {
                Ok(Work::Settle(Box::new(ev)))
            } else if ev.reversed_at.is_some() && ev.settled && !ev.reversal_done {
                Ok(Work::Reverse(Box::new(ev)))
            } else {
                Ok(Work::Nothing)
            }
        }
        Some(Prefix::URwd) => {
            let img = &r.change.new_image;
            let bal = match img.get("bal") {
                Some(serde_dynamo::AttributeValue::S(b)) => Some(b.clone()),
                _ => None,
            };
            Ok(Work::Balance(Box::new(RewardState {
                copy: (pk, sk),
                reward: image::<RewardItem>(img)?,
                bal,
            })))
        }
        Some(Prefix::Credit) if fresh => {
            let net = Prefix::Credit
                .strip(&pk)
                .and_then(|rest| rest.split_once('#'))
                .map(|(net, _)| net)
                .ok_or_else(bad)?;
            Ok(Work::Credit(
                NetworkId::try_from(net).map_err(|_| bad())?,
                Box::new(image(&r.change.new_image)?),
            ))
        }
        _ => Ok(Work::Nothing),
    }
}

/// Records worked on side by side.
const AT_ONCE: usize = 16;

crate::lambda::handler!(Stream);

pub async fn handle(
    state: &AppState,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let records = &event.payload.records;
    let Some(first) = records.first() else {
        return Ok(DynamoDbEventResponse::default());
    };
    let store = &state.store;
    let mut failed = Vec::new();
    let mut balance = Vec::new();
    let mut balance_seqs = Vec::new();
    let mut jobs = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match work_of(r) {
            Ok(Work::Balance(b)) => {
                balance.push(*b);
                balance_seqs.push(sequence(r));
            }
            Ok(Work::Nothing) => {}
            Ok(work) => jobs.push((i, work)),
            Err(e) => {
                tracing::error!(sequence = %sequence(r), error = %crate::http::error_chain(&e), "a record the rewards consumer cannot read");
                failed.push(sequence(r));
            }
        }
    }
    // Records are independent of each other: a batch of signups runs side by side.
    let outcomes: Vec<_> = futures::stream::iter(jobs)
        .map(|(i, work)| async move {
            let done = match work {
                Work::Signup(net, prog, m) => store.record_signup(&net, &prog, &m).await,
                Work::Settle(ev) => store.settle_event(&ev).await,
                Work::Reverse(ev) => store.carry_out_reversal(&ev).await,
                Work::Credit(net, c) => {
                    store
                        .record_deso_credit(&net, &c, &state.config.deso_program_id)
                        .await
                }
                Work::Balance(_) | Work::Nothing => Ok(()),
            };
            (i, done)
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    for (i, done) in outcomes {
        if let Err(e) = done {
            let r = &records[i];
            tracing::error!(sequence = %sequence(r), error = %crate::http::error_chain(&e), "a record the rewards consumer could not apply");
            failed.push(sequence(r));
        }
    }
    if !balance.is_empty() {
        if let Err(e) = store
            .apply_reward_states(&balance, &first.event_id)
            .await
            .map(|_| ())
        {
            tracing::error!(error = %crate::http::error_chain(&e), "balances not applied; their records come again");
            failed.extend(balance_seqs);
        }
    }
    tracing::info!(
        records = records.len(),
        rewards = balance.len(),
        failed = failed.len(),
        "rewards derived"
    );
    Ok(crate::lambda::batch_failures(failed))
}
