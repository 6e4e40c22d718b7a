//! POST /api/v0/get-referral-info-for-user
//!
//! Round trips: one Query of the user's codes and one BatchGetItem of their shards.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{ok, referral_info_response, user, UserCred};
use crate::domain::UserId;
use crate::http::{json_body, ApiError};
use crate::AppState;

crate::api::endpoint!(serve_deso, public_retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let cred: UserCred = json_body(&req, false)?;
    let key = user(&state.config, &cred)?;
    let codes = state
        .public_store
        .user_codes(&state.config.deso_network_id, &UserId::Deso(key), None)
        .await?;
    let list: Vec<_> = codes
        .iter()
        .filter(|c| c.code.is_hash())
        .map(|c| referral_info_response(c, Some(Vec::new())))
        .collect();
    Ok(ok(&json!({ "ReferralInfoResponses": list })))
}
