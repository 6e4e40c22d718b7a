//! POST /networks/{network_id}/events
//!
//! Round trips: the key and the user's profile in one BatchGetItem, then the event's
//! conditional PutItem. The rewards are derived from the committed event by the rewards
//! consumer.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::rewards_json::event_json;
use super::{network, user_banned, user_field};
use crate::domain::reward::EventIn;
use crate::http::{json_body, json_response, ApiError};
use crate::store::rewards::events::Accept;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("post-event");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let body: EventIn = json_body(&req, false)?;
    let facts = body.validate()?;
    let user = user_field(state, "user", &body.user)?;
    let (status, event) = match state
        .store
        .accept_event(&net, &probe, &user, &facts)
        .await?
    {
        Accept::Auth(f) => return Err(f.into()),
        Accept::UserNotFound => {
            return Err(ApiError::not_found(
                "user_not_found",
                "no such user in this network",
            ))
        }
        Accept::UserBanned => return Err(user_banned()),
        Accept::Reused => {
            return Err(ApiError::conflict(
                "event_id_reused",
                "this event_id was used for an event with another body",
            ))
        }
        Accept::Accepted(e) => (StatusCode::ACCEPTED, e),
        Accept::Replayed(e) => (StatusCode::OK, e),
    };
    Ok(json_response(
        status,
        &json!({ "event": event_json(&event) }),
    ))
}
