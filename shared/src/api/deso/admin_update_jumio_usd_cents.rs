//! POST /api/v0/admin/update-jumio-usd-cents

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, cents, ok, AdminCred, Role};
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize)]
struct Set {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "USDCents")]
    value: u64,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Set = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let value = u64::from(cents("USDCents", body.value)?);
    state
        .store
        .set_deso_setting(&state.config.deso_network_id, "jumio_usd_cents", value)
        .await?;
    Ok(ok(&json!({ "USDCents": value })))
}
