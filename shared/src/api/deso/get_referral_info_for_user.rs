//! POST /api/v0/get-referral-info-for-user
//!
//! Round trips: one Query of the user's codes and one BatchGetItem of their shards.

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;

use super::{ok, referral_info_response, user, UserCred};
use crate::domain::UserId;
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

/// This function's handler, as its Lambda binary and the tests run it.
pub const HANDLER: crate::lambda::Handler =
    crate::lambda::Handler::Http(|state, input| Box::pin(handle(state, input)));

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(state.config.public_retry_budget, req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let cred: UserCred = json_body(&req, false)?;
    let key = user(&state.config, &cred)?;
    let codes = state
        .public_store
        .user_codes(&state.config.deso_network_id, &UserId::Deso(key), None)
        .await?;
    let list: Vec<_> = codes
        .iter()
        .map(|c| referral_info_response(c, Some(Vec::new())))
        .collect();
    Ok(ok(&json!({ "ReferralInfoResponses": list })))
}
