//! The leaderboards' consumer, fed by the table's stream on members' count shards (`CNT#`, the
//! aggregator's) and reward score shards (`RSCORE#`, the rewards consumer's). A record whose
//! direct-referee counts or reward cents moved names a member, the program and the months
//! that moved; each batch merges those members into their programs' boards
//! (`store::boards`). Off the aggregator's path, so counts settle as fast as before; and the
//! repair's fixes of either kind of shard reach the boards the same way.

use std::collections::BTreeSet;

use lambda_http::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::{Error, LambdaEvent};

use super::stream_record::{key_text, sequence};
use crate::domain::leaderboard::Period;
use crate::domain::{NetworkId, ProgramId, UserId};
use crate::store::boards::Touched;
use crate::store::keys::{self, Prefix};

crate::lambda::handler!(Stream);

/// The numbers of an image by attribute.
fn numbers(img: &serde_dynamo::Item) -> std::collections::BTreeMap<&str, &str> {
    img.iter()
        .filter_map(|(k, v)| match v {
            serde_dynamo::AttributeValue::N(n) => Some((k.as_str(), n.as_str())),
            _ => None,
        })
        .collect()
}

/// The attributes whose value differs between the record's images.
fn moved(r: &EventRecord) -> Vec<&str> {
    let (old, new) = (numbers(&r.change.old_image), numbers(&r.change.new_image));
    let names: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    names
        .into_iter()
        .filter(|n| old.get(n) != new.get(n))
        .collect()
}

/// Per measure, the members to merge: referral counts, then reward scores.
fn work(records: &[EventRecord]) -> (Touched, Touched, Vec<String>) {
    let (mut referrals, mut rewards, mut failed) = (Touched::new(), Touched::new(), Vec::new());
    for r in records {
        let pk = key_text(r, keys::PK);
        let (kind, rest) = match Prefix::of(&pk) {
            Some(p @ (Prefix::Cnt | Prefix::RScore)) => (p, p.strip(&pk).unwrap_or_default()),
            _ => continue,
        };
        // <net>#<prog>#<user>#<shard>; a user id may hold '#' only as an email's local part
        let parsed = rest.split_once('#').and_then(|(net, rest)| {
            let (prog, rest) = rest.split_once('#')?;
            let (user, _) = rest.rsplit_once('#')?;
            Some((
                NetworkId::try_from(net).ok()?,
                ProgramId::try_from(prog).ok()?,
                UserId::from_stored(user).ok()?,
            ))
        });
        let Some((net, prog, user)) = parsed else {
            tracing::error!(sequence = %sequence(r), pk, "a shard key the leaderboards cannot read");
            failed.push(sequence(r));
            continue;
        };
        let mut months = BTreeSet::new();
        let mut ranked = false;
        for attr in moved(r) {
            let m = match kind {
                // c1: the whole history; m<YYYYMM>: a month
                Prefix::Cnt if attr == "c1" => {
                    ranked = true;
                    None
                }
                Prefix::Cnt => Period::of_referrals_attr(attr),
                _ => attr
                    .split_once('@')
                    .and_then(|(_, m)| Period::from_digits(m)),
            };
            if let Some(m) = m {
                ranked = true;
                months.insert(m);
            }
        }
        if !ranked {
            continue;
        }
        let into = if kind == Prefix::Cnt {
            &mut referrals
        } else {
            &mut rewards
        };
        let t = into.entry((net, prog)).or_default();
        t.0.insert(user);
        t.1.extend(months);
    }
    (referrals, rewards, failed)
}

pub async fn handle(
    state: &crate::AppState,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let (referrals, rewards, failed) = work(&event.payload.records);
    let store = &state.store;
    let merged = match store.merge_referral_boards(&referrals).await {
        Ok(()) => store.merge_reward_boards(&rewards).await,
        Err(e) => Err(e),
    };
    // Merging again is safe: a failed batch comes again whole.
    merged.map_err(|e| {
        tracing::error!(error = %crate::http::error_chain(&e), "leaderboards not merged; the batch comes again");
        Error::from("leaderboards not merged")
    })?;
    tracing::info!(
        records = event.payload.records.len(),
        programs = referrals.len() + rewards.len(),
        "leaderboards merged"
    );
    Ok(crate::lambda::batch_failures(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<EventRecord> {
        let text = include_str!("../../../events/merge-boards.json");
        let ev: Event = serde_json::from_str(text).unwrap();
        ev.records
    }

    #[test]
    fn the_moved_counts_and_cents_name_their_member_and_months() {
        let (referrals, rewards, failed) = work(&records());
        assert!(failed.is_empty());
        let key = (
            NetworkId::try_from("demo").unwrap(),
            ProgramId::try_from("default").unwrap(),
        );
        let nov = Period::parse("2026-11").unwrap();
        for t in [&referrals, &rewards] {
            let (users, months) = &t[&key];
            assert_eq!(users.len(), 1);
            assert_eq!(months.iter().copied().collect::<Vec<_>>(), vec![nov]);
        }
        // a record where only deeper levels and the version moved ranks nothing
        let mut r = records().remove(0);
        for img in [&mut r.change.old_image, &mut r.change.new_image] {
            img.remove("c1");
            img.remove("m202611");
        }
        r.change
            .new_image
            .insert("c2".into(), serde_dynamo::AttributeValue::N("5".into()));
        let (referrals, _, _) = work(&[r]);
        assert!(referrals.is_empty());
    }
}
