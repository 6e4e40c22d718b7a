//! POST /api/v0/admin/get-all-referral-info-for-user

use futures::future::try_join_all;
use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, deso_key, ok, referral_info_response, AdminCred, Role};
use crate::domain::UserId;
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize)]
struct Query {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "UserPublicKeyBase58Check")]
    user: String,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Query = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let owner = UserId::Deso(deso_key(
        &state.config,
        "UserPublicKeyBase58Check",
        &body.user,
    )?);
    let codes = state
        .store
        .user_codes(&state.config.deso_network_id, &owner, None)
        .await?;
    // The referred users of each code, read side by side.
    let referred = try_join_all(codes.iter().map(|c| state.store.referred_users(&c.code))).await?;
    let list: Vec<_> = codes
        .iter()
        .zip(referred)
        .map(|(c, users)| {
            let users = users
                .into_iter()
                .map(|u| json!({"PublicKeyBase58Check": u}))
                .collect();
            referral_info_response(c, users)
        })
        .collect();
    Ok(ok(&json!({ "ReferralInfoResponses": list })))
}
