//! POST /api/v0/admin/create-referral-hash
//!
//! Round trips: one TransactWriteItems (program check, owner's profile, code, index).

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, referral_info_response, user_key, AdminCred, ConfigFields, Role};
use crate::domain::UserId;
use crate::http::{json_body, ApiError};
use crate::store::codes::CreateOutcome;
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Create {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "UserPublicKeyBase58Check")]
    user: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(flatten)]
    config: ConfigFields,
}

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Create = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let cfg = &state.config;
    let owner = UserId::Deso(user_key(
        cfg,
        "UserPublicKeyBase58Check",
        &body.user,
        &body.username,
    )?);
    let config = body.config.validate()?;
    match state
        .store
        .create_code(&cfg.deso_network_id, &cfg.deso_program_id, &owner, config)
        .await?
    {
        CreateOutcome::Created(c) => Ok(ok(&json!({
            "ReferralInfoResponse": referral_info_response(&c, None)
        }))),
        CreateOutcome::OwnerBanned => Err(ApiError::conflict("user_banned", "the user is banned")),
        CreateOutcome::ProgramNotFound => Err(ApiError::not_found(
            "program_not_found",
            format!(
                "program {} (DESO_PROGRAM_ID) does not exist",
                cfg.deso_program_id
            ),
        )),
    }
}
