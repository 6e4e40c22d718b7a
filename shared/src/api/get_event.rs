//! GET /networks/{network_id}/events/{event_id}
//!
//! Round trips: the key and the event in one BatchGetItem, then its rewards in another.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::network;
use super::rewards_json::{event_json, reward_json};
use crate::domain::reward::valid_event_id;
use crate::http::{json_response, path_param, ApiError};
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("get-event");

crate::api::endpoint!(serve, retry_budget);

pub(crate) fn event_not_found() -> ApiError {
    ApiError::not_found("event_not_found", "no such event in this network")
}

/// The `{event_id}` path parameter.
pub(crate) fn event_id_param(req: &Request, path: &str) -> Result<String, ApiError> {
    let id = path_param(req, path, "event_id")?;
    if !valid_event_id(&id) {
        return Err(ApiError::bad_request(
            "invalid_event_id",
            "event_id must be 1 to 400 printable ASCII characters without spaces",
        ));
    }
    Ok(id)
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let id = event_id_param(&req, PATH)?;
    let (event, rewards) = state
        .store
        .get_event(&net, &probe, &id)
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(event_not_found)?;
    let now = clock::now().ns;
    let mut v = event_json(&event);
    v["rewards"] = json!(rewards
        .iter()
        .map(|r| reward_json(r, now))
        .collect::<Vec<_>>());
    Ok(json_response(StatusCode::OK, &json!({ "event": v })))
}
