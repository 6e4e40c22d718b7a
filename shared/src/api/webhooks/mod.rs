//! The webhook routes, and what they share: ids, bodies, URL checks and the wire shapes.
//! The fanout (`webhook_fanout`) and the sender (`webhook_sender`) make and send messages.

pub mod create_webhook;
pub mod delete_webhook;
pub mod get_webhook;
pub mod list_webhook_deliveries;
pub mod list_webhooks;
pub mod replay_webhook;
pub mod retry_webhook_delivery;
pub mod rotate_webhook_secret;
pub mod test_webhook;
pub mod update_webhook;

use lambda_http::Request;
use serde_json::{json, Value};

use crate::domain::webhook::{self, Target};
use crate::http::{path_param, ApiError};
use crate::store::webhooks::messages::MessageItem;
use crate::store::webhooks::WebhookItem;
use crate::{clock, AppState};

/// A webhook id: `wh_` and base58.
pub(crate) fn webhook_id(req: &Request, path: &str) -> Result<String, ApiError> {
    let raw = path_param(req, path, "webhook_id")?;
    let ok = (4..=40).contains(&raw.len())
        && raw.starts_with("wh_")
        && bs58::decode(&raw[3..]).into_vec().is_ok();
    ok.then_some(raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_webhook_id",
            "webhook_id is a webhook's id, as listed",
        )
    })
}

pub(crate) fn new_webhook_id() -> Result<String, ApiError> {
    crate::random::base58::<16>()
        .map(|b| format!("wh_{b}"))
        .map_err(|_| crate::http::internal())
}

pub(crate) fn new_secret() -> Result<String, ApiError> {
    crate::random::bytes::<32>()
        .map(|b| webhook::secret_of(&b))
        .map_err(|_| crate::http::internal())
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("webhook_not_found", "no such webhook in this network")
}

/// A URL the rules take, its host resolved now: 400 `invalid_url` otherwise.
pub(crate) async fn checked_url(state: &AppState, raw: &str) -> Result<Target, ApiError> {
    let bad = |r: webhook::UrlRefusal| ApiError::bad_request("invalid_url", r.message());
    let t = webhook::parse_url(raw, state.config.webhooks.allow_local).map_err(bad)?;
    state.sender().check(&t).await.map_err(bad)?;
    Ok(t)
}

pub(crate) fn events(raw: &[String]) -> Result<Vec<String>, ApiError> {
    webhook::subscription(raw).map_err(|m| ApiError::bad_request("invalid_events", m))
}

/// A description: printable text, at most 500 characters.
pub(crate) fn description(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(d) if d.chars().count() > 500 || d.chars().any(char::is_control) => {
            Err(ApiError::bad_request(
                "invalid_description",
                "description must be at most 500 characters of printable text",
            ))
        }
        other => Ok(other),
    }
}

/// A webhook as the routes answer it; the secret only on create and rotation.
pub(crate) fn webhook_json(w: &WebhookItem, secret: Option<&str>) -> Value {
    let mut v = json!({
        "webhook_id": w.webhook_id,
        "url": w.url,
        "events": w.events,
        "active": w.active,
        "description": w.description,
        "created_at": w.created_at,
        "disabled_reason": w.disabled_reason,
    });
    if let Some(s) = secret {
        v["secret"] = json!(s);
    }
    v
}

pub(crate) fn delivery_json(m: &MessageItem) -> Value {
    json!({
        "message_id": m.message_id,
        "type": m.kind,
        "status": m.status,
        "attempts": m.attempts,
        "last_status_code": m.last_status_code,
        "next_attempt_at": m.next_attempt_ms.map(|ms| clock::rfc3339(ms.saturating_mul(1_000_000))),
        "created_at": m.created_at,
    })
}

/// The webhook named in the path, read with the key in one BatchGetItem: 404 if none.
pub(crate) async fn existing(
    state: &AppState,
    req: &Request,
    path: &str,
) -> Result<(crate::domain::NetworkId, WebhookItem), ApiError> {
    let probe = crate::auth::probe(req)?;
    let net = super::network(req, path)?;
    let id = webhook_id(req, path)?;
    let hook = state
        .store
        .get_webhook(&net, &probe, &id)
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    Ok((net, hook))
}
