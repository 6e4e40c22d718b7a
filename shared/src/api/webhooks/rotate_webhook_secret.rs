//! POST /networks/{network_id}/webhooks/{webhook_id}/rotate_secret
//!
//! Round trips: the key and the webhook in one BatchGetItem, then one UpdateItem of the
//! secret. The previous secret signs too for 24 hours.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{new_secret, not_found, webhook_id, webhook_json};
use crate::api::network;
use crate::domain::webhook::PREVIOUS_SECRET_FOR;
use crate::http::{json_response, ApiError};
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("rotate-webhook-secret");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let id = webhook_id(&req, PATH)?;
    let secret = new_secret()?;
    let until = clock::now_ms() + PREVIOUS_SECRET_FOR.as_millis() as u64;
    let hook = state
        .store
        .rotate_webhook_secret(&net, &probe, &id, &secret, until)
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "webhook": webhook_json(&hook, Some(&secret)) }),
    ))
}
