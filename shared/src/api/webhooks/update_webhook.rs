//! PATCH /networks/{network_id}/webhooks/{webhook_id}
//!
//! Round trips: the key's GetItem, then one conditional UpdateItem. A new URL's host is
//! resolved first, outside the table.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{checked_url, description, events, not_found, webhook_id, webhook_json};
use crate::api::network;
use crate::http::{json_body, json_response, ApiError};
use crate::store::webhooks::WebhookPatch;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("update-webhook");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize, Default)]
struct PatchBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    active: Option<bool>,
    /// Absent: unchanged; empty: cleared.
    description: Option<String>,
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let id = webhook_id(&req, PATH)?;
    let body: PatchBody = json_body(&req, true)?;
    if let Some(u) = &body.url {
        checked_url(state, u).await?;
    }
    let patch = WebhookPatch {
        url: body.url,
        events: body.events.as_deref().map(events).transpose()?,
        active: body.active,
        description: match body.description {
            Some(d) if d.is_empty() => Some(None),
            Some(d) => Some(description(Some(d))?),
            None => None,
        },
    };
    let hook = state
        .store
        .update_webhook(&net, &probe, &id, &patch)
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "webhook": webhook_json(&hook, None) }),
    ))
}
