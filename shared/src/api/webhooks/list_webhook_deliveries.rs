//! GET /networks/{network_id}/webhooks/{webhook_id}/deliveries
//!
//! Round trips: the key and the webhook in one BatchGetItem, and a Query of its messages
//! (newest first), side by side. A `status` filter applies to the page read, so a page may
//! hold fewer than `limit` with a cursor for more.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{delivery_json, existing, webhook_id};
use crate::api::network;
use crate::domain::webhook::is_message_id;
use crate::http::{decode_cursor, encode_cursor, json_response, limit, query_param, ApiError};
use crate::AppState;

const PATH: &str = crate::routes::path_of("list-webhook-deliveries");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    // No key: 401 before any other refusal.
    crate::auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let id = webhook_id(&req, PATH)?;
    let limit = limit(&req)?;
    let status = match query_param(&req, "status") {
        None => None,
        Some(s @ ("pending" | "delivered" | "failed")) => Some(s.to_owned()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_status",
                "status is pending, delivered or failed",
            ))
        }
    };
    let scope = format!("deliveries|{net}|{id}");
    let after = query_param(&req, "cursor")
        .map(|c| decode_cursor(&scope, c, is_message_id))
        .transpose()?;
    let (hook, page) = futures::future::join(
        existing(state, &req, PATH),
        state.store.messages_page(&net, &id, after, limit),
    )
    .await;
    hook?;
    let (found, last) = page?;
    let shown: Vec<_> = found
        .iter()
        .filter(|m| status.as_deref().is_none_or(|s| m.status == s))
        .map(delivery_json)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "deliveries": shown,
            "next_cursor": last.map(|sk| encode_cursor(&scope, &sk)),
        }),
    ))
}
