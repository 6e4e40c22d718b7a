//! GET /networks/{network_id}/webhooks/{webhook_id}
//!
//! Round trips: the key and the webhook in one BatchGetItem.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{existing, webhook_json};
use crate::http::{json_response, ApiError};
use crate::AppState;

const PATH: &str = crate::routes::path_of("get-webhook");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let (_, hook) = existing(state, &req, PATH).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "webhook": webhook_json(&hook, None) }),
    ))
}
