//! GET /networks/{network_id}/payouts/{payout_id}
//!
//! Round trips: the key and the payout in one BatchGetItem.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::network;
use super::payouts_json::payout_json;
use crate::http::{json_response, path_param, ApiError};
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("get-payout");

crate::api::endpoint!(serve, retry_budget);

/// A payout id, as a 202 gave it.
pub(crate) fn payout_id(raw: &str) -> Result<&str, ApiError> {
    let ok = (8..=32).contains(&raw.len()) && bs58::decode(raw).into_vec().is_ok();
    ok.then_some(raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_payout_id",
            "payout_id is a payout's id, as a 202 gave it",
        )
    })
}

pub(crate) fn payout_not_found() -> ApiError {
    ApiError::not_found("payout_not_found", "no such payout in this network")
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let raw = path_param(&req, PATH, "payout_id")?;
    let id = payout_id(&raw)?;
    let payout = state
        .store
        .get_payout(&net, &probe, id)
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(payout_not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "payout": payout_json(&payout) }),
    ))
}
