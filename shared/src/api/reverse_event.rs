//! POST /networks/{network_id}/events/{event_id}/reverse
//!
//! Round trips: the key and the event in one BatchGetItem, then one conditional UpdateItem.
//! The rewards consumer voids or claws back its rewards.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::get_event::{event_id_param, event_not_found};
use super::network;
use super::reward_status::{reason, VoidBody};
use super::rewards_json::event_json;
use crate::http::{json_body, json_response, ApiError};
use crate::store::rewards::reverse::Reversed;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("reverse-event");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let id = event_id_param(&req, PATH)?;
    let body: VoidBody = json_body(&req, true)?;
    let why = reason(body.reason)?;
    match state
        .store
        .reverse_event(&net, &probe, &id, why.as_deref())
        .await?
    {
        Reversed::Auth(f) => Err(f.into()),
        Reversed::NotFound => Err(event_not_found()),
        Reversed::Done(ev) => Ok(json_response(
            StatusCode::OK,
            &json!({ "event": event_json(&ev) }),
        )),
    }
}
