//! POST /api/v0/admin/set-usd-cents-to-deso-reserve-exchange-rate

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, AdminCred, Role};
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize)]
struct Set {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "USDCentsPerDeSo")]
    value: u64,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Set = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    if body.value < 1 {
        return Err(ApiError::bad_request(
            "invalid_rate",
            "USDCentsPerDeSo must be at least 1",
        ));
    }
    let value = body.value;
    state
        .store
        .set_deso_setting(&state.config.deso_network_id, "usd_cents_per_deso", value)
        .await?;
    Ok(ok(&json!({ "USDCentsPerDeSo": value })))
}
