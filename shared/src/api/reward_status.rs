//! POST /networks/{network_id}/rewards/{reward_id}/approve and .../void: one module, two
//! functions (`approve-reward`, `void-reward`).
//!
//! Round trips: the key and the reward in one BatchGetItem, then one transaction.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::network;
use super::rewards_json::reward_json;
use crate::domain::reward::RewardStatus;
use crate::http::{json_body, json_response, path_param, ApiError};
use crate::store::rewards::status::{Changed, StatusChange};
use crate::{auth, clock, AppState};

#[derive(Deserialize, Default)]
pub(crate) struct VoidBody {
    pub reason: Option<String>,
}

/// A reason: printable text, at most 500 characters.
pub(crate) fn reason(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        None => Ok(None),
        Some(r) if r.chars().count() <= 500 && !r.chars().any(char::is_control) => Ok(Some(r)),
        Some(_) => Err(ApiError::bad_request(
            "invalid_reason",
            "reason must be at most 500 characters of printable text",
        )),
    }
}

fn reward_id(req: &Request, path: &str) -> Result<String, ApiError> {
    let raw = path_param(req, path, "reward_id")?;
    let ok = (4..=40).contains(&raw.len())
        && raw.starts_with("rw_")
        && bs58::decode(&raw[3..]).into_vec().is_ok();
    ok.then_some(raw).ok_or_else(|| {
        ApiError::bad_request("invalid_reward_id", "reward_id is a reward's id, as listed")
    })
}

pub(crate) async fn change(
    state: &AppState,
    req: Request,
    path: &str,
    void: bool,
) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, path)?;
    let id = reward_id(&req, path)?;
    let change = if void {
        let body: VoidBody = json_body(&req, true)?;
        StatusChange::Void {
            reason: reason(body.reason)?,
        }
    } else {
        StatusChange::Approve
    };
    let now = clock::now().ns;
    match state
        .store
        .change_reward(&net, &probe, &id, &change, now)
        .await?
    {
        Changed::Auth(f) => Err(f.into()),
        Changed::NotFound => Err(ApiError::not_found(
            "reward_not_found",
            "no such reward in this network",
        )),
        Changed::Refused(RewardStatus::Paid) => Err(ApiError::conflict(
            "reward_paid",
            "the reward is paid; reverse its event to claw it back",
        )),
        Changed::Refused(_) => Err(ApiError::conflict(
            "reward_voided",
            "the reward is voided and cannot be approved",
        )),
        Changed::Done(r) => Ok(json_response(
            StatusCode::OK,
            &json!({ "reward": reward_json(&r, now) }),
        )),
    }
}
