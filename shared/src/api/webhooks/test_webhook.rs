//! POST /networks/{network_id}/webhooks/{webhook_id}/test
//!
//! Round trips: the key and the webhook in one BatchGetItem, then the message's PutItem. The
//! message is a committed write like any other: the sender delivers it.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::existing;
use crate::domain::webhook::{self, EventType};
use crate::http::{json_response, ApiError};
use crate::store::webhooks::messages::MessageItem;
use crate::{clock, AppState};

const PATH: &str = crate::routes::path_of("test-webhook");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let (net, hook) = existing(state, &req, PATH).await?;
    let now = clock::now();
    let now_ms = now.ns / 1_000_000;
    let nonce = crate::random::base58::<16>().map_err(|_| crate::http::internal())?;
    let id = webhook::message_id(now_ms, &format!("test|{nonce}"));
    let t = EventType::WebhookTest;
    let body = webhook::body(t, &now.rfc3339, json!({}));
    let m = MessageItem::new(
        &net,
        &hook.webhook_id,
        &id,
        t.as_str(),
        body,
        &now.rfc3339,
        now_ms,
    );
    state.store.put_message(&m).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "message_id": id }),
    ))
}
