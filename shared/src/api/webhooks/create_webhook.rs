//! POST /networks/{network_id}/webhooks
//!
//! Round trips: the key's GetItem, then one transaction (the count, the webhook, its secret).
//! The URL's host is resolved first, outside the table.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{checked_url, description, events, new_secret, new_webhook_id, webhook_json};
use crate::api::network;
use crate::http::{json_body, json_response, ApiError};
use crate::store::webhooks::{Created, WebhookItem};
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("create-webhook");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize)]
struct CreateBody {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let body: CreateBody = json_body(&req, false)?;
    let events = events(&body.events)?;
    let description = description(body.description)?;
    checked_url(state, &body.url).await?;
    let now = clock::now();
    let hook = WebhookItem {
        network_id: net.as_str().to_owned(),
        webhook_id: new_webhook_id()?,
        url: body.url,
        events,
        active: true,
        description,
        created_at: now.rfc3339,
        since_ms: now.ns / 1_000_000,
        failing_since_ms: None,
        disabled_reason: None,
    };
    let secret = new_secret()?;
    match state
        .store
        .create_webhook(&net, &probe, &hook, &secret)
        .await?
    {
        Created::Auth(f) => Err(f.into()),
        Created::Limit => Err(ApiError::conflict(
            "webhook_limit",
            "the network has 20 webhooks; delete one first",
        )),
        Created::Done => Ok(json_response(
            StatusCode::CREATED,
            &json!({ "webhook": webhook_json(&hook, Some(&secret)) }),
        )),
    }
}
