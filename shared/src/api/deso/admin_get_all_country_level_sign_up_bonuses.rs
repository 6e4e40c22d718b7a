//! POST /api/v0/admin/get-all-country-level-sign-up-bonuses (any admin)

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, AdminCred, Role};
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize)]
struct Read {
    #[serde(flatten)]
    cred: AdminCred,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Read = json_body(&req, true)?;
    admin(&state.config, &body.cred, Role::Admin)?;
    let (countries, settings) = state
        .store
        .all_bonuses(&state.config.deso_network_id)
        .await?;
    Ok(ok(&json!({
        "SignUpBonusMetadata": countries,
        "DefaultSignUpBonusMetadata": settings.default_bonus(),
    })))
}
