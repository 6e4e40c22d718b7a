//! POST /networks/{network_id}/webhooks/{webhook_id}/deliveries/{message_id}/retry
//!
//! Round trips: the key and the webhook in one BatchGetItem, then one UpdateItem that makes
//! the message due now: the sender's next look attempts it once more.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{delivery_json, existing};
use crate::domain::webhook::is_message_id;
use crate::http::{json_response, path_param, ApiError};
use crate::{clock, AppState};

const PATH: &str = crate::routes::path_of("retry-webhook-delivery");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    // No key: 401 before any other refusal.
    crate::auth::probe(&req)?;
    let msg = path_param(&req, PATH, "message_id")?;
    if !is_message_id(&msg) {
        return Err(ApiError::bad_request(
            "invalid_message_id",
            "message_id is a delivery's message id, as listed",
        ));
    }
    let (net, hook) = existing(state, &req, PATH).await?;
    let m = state
        .store
        .make_due(&net, &hook.webhook_id, &msg, clock::now_ms())
        .await?
        .ok_or_else(|| {
            ApiError::not_found("message_not_found", "no such message of this webhook")
        })?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "delivery": delivery_json(&m) }),
    ))
}
