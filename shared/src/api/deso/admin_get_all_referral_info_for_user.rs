//! POST /api/v0/admin/get-all-referral-info-for-user
//!
//! Round trips: one Query of the user's codes, one BatchGetItem of their shards, then the
//! referred users of each code (one Query per referral shard, side by side).

use futures::future::try_join_all;
use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, referral_info_response, user_key, AdminCred, Role};
use crate::domain::UserId;
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Query {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "UserPublicKeyBase58Check")]
    user: String,
    #[serde(rename = "Username")]
    username: String,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Query = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let cfg = &state.config;
    let owner = UserId::Deso(user_key(
        cfg,
        "UserPublicKeyBase58Check",
        &body.user,
        &body.username,
    )?);
    let codes = state
        .store
        .user_codes(&cfg.deso_network_id, &owner, None)
        .await?;
    let referred = try_join_all(codes.iter().map(|c| state.store.referred_users(&c.code))).await?;
    let list: Vec<_> = codes
        .iter()
        .zip(referred)
        .map(|(c, users)| {
            let users = users
                .into_iter()
                .map(|u| json!({"PublicKeyBase58Check": u}))
                .collect();
            referral_info_response(c, Some(users))
        })
        .collect();
    Ok(ok(&json!({ "ReferralInfoResponses": list })))
}
