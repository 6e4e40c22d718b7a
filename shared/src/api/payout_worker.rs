//! The payout worker, fed by the table's stream on payout items: each running payout's record
//! runs its current step, whose checkpoint makes the next record. A step that fails answers its
//! record as failed, and the mapping delivers it again; the step's condition on the checkpoint
//! makes a repeated or stale step change nothing.

use lambda_http::aws_lambda_events::event::dynamodb::Event;
use lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::{Error, LambdaEvent};

use crate::domain::NetworkId;
use crate::store::rewards::payouts::PayoutItem;
use crate::AppState;

crate::lambda::handler!(Stream);

pub async fn handle(
    state: &AppState,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let mut failed = Vec::new();
    for r in &event.payload.records {
        if r.event_name == "REMOVE" {
            continue;
        }
        // The lock item and finished payouts need nothing.
        let Ok(p) = serde_dynamo::from_item::<_, PayoutItem>(r.change.new_image.clone()) else {
            continue;
        };
        if p.status != "running" {
            continue;
        }
        let seq = r.change.sequence_number.clone().unwrap_or_default();
        let Ok(net) = NetworkId::try_from(p.network_id.as_str()) else {
            continue;
        };
        if let Err(e) = state.store.payout_step(&net, &p.payout_id).await {
            tracing::error!(payout = %p.payout_id, error = %crate::http::error_chain(&e), "payout step failed; its record comes again");
            failed.push(seq);
        }
    }
    Ok(crate::lambda::batch_failures(failed))
}
