//! The stream aggregator: per-level downline counts from the edges that appear and go.
//!
//! Fed by the table's stream (filtered to edge items). A batch is applied exactly once: a
//! failure answers an error, the stream delivers the same batch again, and its markers make
//! the parts already applied add nothing.

use lambda_http::aws_lambda_events::event::dynamodb::{Event, EventRecord};
use lambda_http::{Error, LambdaEvent};

use crate::domain::{NetworkId, ProgramId, UserId};
use crate::store::counts::{BatchId, EdgeChange};
use crate::store::keys;
use crate::AppState;

fn key_text<'a>(r: &'a EventRecord, attr: &str) -> Option<&'a str> {
    match r.change.keys.get(attr)? {
        serde_dynamo::AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

/// The edge changes among stream records; anything else is skipped.
pub fn edge_changes(records: &[EventRecord]) -> Vec<EdgeChange> {
    records
        .iter()
        .filter_map(|r| {
            let delta = match r.event_name.as_str() {
                "INSERT" => 1,
                "REMOVE" => -1,
                _ => return None,
            };
            let (net, prog, ancestor) = keys::parse_downline_pk(key_text(r, keys::PK)?)?;
            let (level, _, _) = keys::parse_edge_sk(key_text(r, keys::SK)?)?;
            let at = r.change.approximate_creation_date_time;
            Some(EdgeChange {
                network: NetworkId::try_from(net).ok()?,
                program: ProgramId::try_from(prog).ok()?,
                ancestor: UserId::from_stored(ancestor).ok()?,
                level,
                delta,
                at_ns: at.timestamp_nanos_opt().unwrap_or(0).max(0) as u64,
            })
        })
        .collect()
}

/// This function's handler, as its Lambda binary and the tests run it.
pub const HANDLER: crate::lambda::Handler =
    crate::lambda::Handler::Stream(|state, input| Box::pin(handle(state, input)));

pub async fn handle(state: &AppState, event: LambdaEvent<Event>) -> Result<(), Error> {
    let records = &event.payload.records;
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return Ok(());
    };
    let batch = BatchId {
        first_event: first.event_id.clone(),
        last_event: last.event_id.clone(),
    };
    let changes = edge_changes(records);
    state
        .store
        .apply_edge_changes(&changes, &batch)
        .await
        .map_err(|e| {
            tracing::error!(error = %crate::http::error_chain(&e), "counts not applied; the batch comes again");
            Error::from("counts not applied")
        })?;
    tracing::info!(
        records = records.len(),
        edges = changes.len(),
        "counts applied"
    );
    Ok(())
}
