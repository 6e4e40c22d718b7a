//! GET /networks/{network_id}/webhooks
//!
//! Round trips: the key's GetItem and the Query of the network's webhooks, side by side.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::webhook_json;
use crate::api::network;
use crate::http::{json_response, ApiError};
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("list-webhooks");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let hooks = state
        .store
        .list_webhooks(&net, &probe)
        .await?
        .map_err(ApiError::from)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "webhooks": hooks.iter().map(|h| webhook_json(h, None)).collect::<Vec<_>>() }),
    ))
}
