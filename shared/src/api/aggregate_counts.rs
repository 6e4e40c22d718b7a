//! The stream aggregator: per-level downline counts from the edges that appear and go.
//!
//! Fed by the table's stream (filtered to edge items). Each edge moves its counts once, by
//! its mark (`store::aggregate`), however the stream splits, retries or repeats a batch. It
//! answers the records it could not apply: the mapping retries them, bisects, and in the end
//! hands them to the failure destination, while the rest of the shard goes on.

use lambda_http::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::{Error, LambdaEvent};

use crate::domain::{NetworkId, ProgramId, UserId};
use crate::store::aggregate::EdgeChange;
use crate::store::keys;
use crate::AppState;

fn key_text<'a>(r: &'a EventRecord, attr: &str) -> Option<&'a str> {
    match r.change.keys.get(attr)? {
        serde_dynamo::AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

/// A record's edge change: None for a record that changes no count (a rewrite of an edge);
/// Err for an edge record that cannot be read, which is never applied.
pub fn edge_change(r: &EventRecord) -> Result<Option<EdgeChange>, String> {
    let delta = match r.event_name.as_str() {
        "INSERT" => 1,
        "REMOVE" => -1,
        _ => return Ok(None),
    };
    let (pk, sk) = (
        key_text(r, keys::PK).unwrap_or_default(),
        key_text(r, keys::SK).unwrap_or_default(),
    );
    let bad = || format!("not an edge: {pk} / {sk}");
    let (net, prog, ancestor) = keys::parse_downline_pk(pk).ok_or_else(bad)?;
    let (level, _, _) = keys::parse_edge_sk(sk).ok_or_else(bad)?;
    let at = r.change.approximate_creation_date_time;
    Ok(Some(EdgeChange {
        edge: (pk.to_owned(), sk.to_owned()),
        network: NetworkId::try_from(net).map_err(|_| bad())?,
        program: ProgramId::try_from(prog).map_err(|_| bad())?,
        ancestor: UserId::from_stored(ancestor).map_err(|_| bad())?,
        level,
        delta,
        at_ns: at.timestamp_nanos_opt().unwrap_or(0).max(0) as u64,
    }))
}

fn sequence(r: &EventRecord) -> String {
    r.change.sequence_number.clone().unwrap_or_default()
}

crate::lambda::handler!(Stream);

pub async fn handle(
    state: &AppState,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let records = &event.payload.records;
    let Some(first) = records.first() else {
        return Ok(DynamoDbEventResponse::default());
    };
    let mut changes = Vec::with_capacity(records.len());
    let mut of_change = Vec::with_capacity(records.len());
    let mut failed = Vec::new();
    for r in records {
        match edge_change(r) {
            Ok(Some(c)) => {
                changes.push(c);
                of_change.push(r);
            }
            Ok(None) => {}
            Err(why) => {
                tracing::error!(sequence = %sequence(r), %why, "a record the aggregator cannot apply");
                failed.push(sequence(r));
            }
        }
    }
    let refused = state
        .store
        .apply_edge_changes(&changes, &first.event_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %crate::http::error_chain(&e), "counts not applied; the batch comes again");
            Error::from("counts not applied")
        })?;
    for i in refused {
        if let Some(r) = of_change.get(i) {
            tracing::error!(sequence = %sequence(r), edge = ?changes[i].edge, "counts refused this edge");
            failed.push(sequence(r));
        }
    }

    tracing::info!(
        records = records.len(),
        edges = changes.len(),
        failed = failed.len(),
        "counts applied"
    );
    Ok(crate::lambda::batch_failures(failed))
}
