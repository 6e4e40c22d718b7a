//! POST /networks/{network_id}/webhooks/{webhook_id}/replay
//!
//! Round trips: the key and the webhook in one BatchGetItem, then a Query page of its
//! messages since `since` and an UpdateItem each (16 at a time), page after page: every
//! message is sent again with its own id.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::existing;
use crate::domain::webhook::REPLAY_WINDOW;
use crate::http::{json_body, json_response, ApiError};
use crate::{clock, AppState};

const PATH: &str = crate::routes::path_of("replay-webhook");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize)]
struct ReplayBody {
    since: String,
}

/// `since` in ms: RFC 3339, at most 7 days back, not ahead.
fn since_ms(raw: &str, now_ms: u64) -> Result<u64, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_since",
            "since is an RFC 3339 time within the last 7 days",
        )
    };
    let t = chrono::DateTime::parse_from_rfc3339(raw).map_err(|_| bad())?;
    let ms = u64::try_from(t.timestamp_millis()).map_err(|_| bad())?;
    let window = REPLAY_WINDOW.as_millis() as u64;
    if ms > now_ms || now_ms - ms > window {
        return Err(bad());
    }
    Ok(ms)
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    // No key: 401 before any other refusal.
    crate::auth::probe(&req)?;
    let body: ReplayBody = json_body(&req, false)?;
    let now = clock::now_ms();
    let since = since_ms(&body.since, now)?;
    let (net, hook) = existing(state, &req, PATH).await?;
    let n = state
        .store
        .replay_messages(&net, &hook.webhook_id, since, now)
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "messages": n }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_within_the_window() {
        // 1,800,000,000 s is 2027-01-15T08:00:00Z.
        let now = 1_800_000_000_000;
        assert_eq!(since_ms("2027-01-15T08:00:00Z", now).unwrap(), now);
        assert_eq!(
            since_ms("2027-01-15T09:00:00+01:00", now).unwrap(),
            now,
            "any offset"
        );
        assert_eq!(
            since_ms("2027-01-08T08:00:00Z", now).unwrap(),
            now - 7 * 86_400_000
        );
        for bad in [
            "2027-01-08T07:59:59Z",
            "2027-01-15T08:00:01Z",
            "yesterday",
            "",
        ] {
            assert!(since_ms(bad, now).is_err(), "{bad}");
        }
    }
}
