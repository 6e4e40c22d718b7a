//! GET /networks/{network_id}/users/{user}/rewards
//!
//! Round trips: the key and the balance shards in one BatchGetItem, then one Query per
//! reward partition, side by side.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::rewards_json::reward_json;
use super::{network, path_user};
use crate::domain::reward::{status_at, RewardStatus};
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::ProgramId;
use crate::http::{decode_cursor, encode_cursor, json_response, limit, query_param, ApiError};
use crate::store::table::ShardCursor;
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("get-user-rewards");

crate::api::endpoint!(serve, retry_budget);

pub(crate) fn positions(text: &str) -> Option<ShardCursor> {
    let v: ShardCursor = serde_json::from_str(text).ok()?;
    (v.len() == EDGE_SHARDS).then_some(v)
}

/// `?status=`, one of the reward statuses.
pub(crate) fn status_filter(req: &Request) -> Result<Option<RewardStatus>, ApiError> {
    query_param(req, "status")
        .map(|s| {
            RewardStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_status",
                    "status must be pending, approved, paid or voided",
                )
            })
        })
        .transpose()
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let limit = limit(&req)? as usize;
    let program = query_param(&req, "program_id")
        .map(|p| {
            ProgramId::try_from(p).map_err(|_| {
                ApiError::bad_request("invalid_program_id", "program_id is not a program id")
            })
        })
        .transpose()?;
    let status = status_filter(&req)?;
    let scope = format!("rewards|{net}|{user}");
    let cursor = query_param(&req, "cursor")
        .map(|c| decode_cursor(&scope, c, |k| positions(k).is_some()))
        .transpose()?
        .and_then(|k| positions(&k));
    let now = clock::now().ns;
    let page = state
        .store
        .user_rewards(&net, &probe, &user, (limit, cursor), now)
        .await?
        .map_err(ApiError::from)?;
    // Filters apply to the page read: a filtered page may hold fewer than `limit`.
    let rewards: Vec<_> = page
        .rewards
        .iter()
        .filter(|r| program.as_ref().is_none_or(|p| p.as_str() == r.program_id))
        .filter(|r| status.is_none_or(|s| status_at(r.status, r.approvable_ns, now) == s))
        .map(|r| reward_json(r, now))
        .collect();
    let next = page
        .next
        .map(|n| encode_cursor(&scope, &serde_json::to_string(&n).unwrap_or_default()));
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "user": user.as_str(),
            "balance": page.balance,
            "balance_as_of": (page.balance_as_of_ns > 0).then(|| clock::rfc3339(page.balance_as_of_ns)),
            "rewards": rewards,
            "next_cursor": next,
        }),
    ))
}
