//! POST /api/v0/admin/create-referral-hash

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, deso_key, ok, referral_info, AdminCred, ConfigFields, Role};
use crate::domain::UserId;
use crate::http::{json_body, serve_deso, ApiError};
use crate::store::deso::CreateOutcome;
use crate::AppState;

#[derive(Deserialize)]
struct Create {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "UserPublicKeyBase58Check")]
    user: String,
    #[serde(flatten)]
    config: ConfigFields,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Create = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let owner = UserId::Deso(deso_key(
        &state.config,
        "UserPublicKeyBase58Check",
        &body.user,
    )?);
    let config = body.config.validate()?;
    let cfg = &state.config;
    match state
        .store
        .create_code(&cfg.deso_network_id, &cfg.deso_program_id, &owner, config)
        .await?
    {
        CreateOutcome::Created(c) => Ok(ok(&json!({
            "ReferralInfoResponse": {"IsActive": c.active, "Info": referral_info(&c)}
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
