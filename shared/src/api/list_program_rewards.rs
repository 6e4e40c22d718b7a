//! GET /networks/{network_id}/connections/{program_id}/rewards: the review queue.
//!
//! Round trips: the key and the program in one BatchGetItem, then one Query per reward
//! partition, side by side.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::get_user_rewards::{positions, status_filter};
use super::rewards_json::reward_json;
use super::{network, program_id, program_not_found};
use crate::domain::reward::status_at;
use crate::http::{decode_cursor, encode_cursor, json_response, limit, query_param, ApiError};
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("list-program-rewards");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let limit = limit(&req)? as usize;
    let status = status_filter(&req)?;
    let scope = format!("queue|{net}|{prog}");
    let cursor = query_param(&req, "cursor")
        .map(|c| decode_cursor(&scope, c, |k| positions(k).is_some()))
        .transpose()?
        .and_then(|k| positions(&k));
    let (auth, program) = state.store.program_head(&net, &prog, &probe).await?;
    auth.map_err(ApiError::from)?;
    if program.is_none() {
        return Err(program_not_found(&prog));
    }
    let (rewards, next) = state
        .store
        .program_rewards(&net, &prog, (limit, cursor))
        .await?;
    let now = clock::now().ns;
    let rewards: Vec<_> = rewards
        .iter()
        .filter(|r| status.is_none_or(|s| status_at(r.status, r.approvable_ns, now) == s))
        .map(|r| reward_json(r, now))
        .collect();
    let next = next.map(|n| encode_cursor(&scope, &serde_json::to_string(&n).unwrap_or_default()));
    Ok(json_response(
        StatusCode::OK,
        &json!({ "rewards": rewards, "next_cursor": next }),
    ))
}
