//! GET /api/v0/admin/get-usd-cents-to-deso-reserve-exchange-rate (no authentication, as DeSo)
//!
//! Round trips: one GetItem of the network's settings.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::ok;
use crate::http::ApiError;
use crate::AppState;

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, _req: Request) -> Result<Response<Body>, ApiError> {
    let settings = state
        .store
        .deso_settings(&state.config.deso_network_id)
        .await?;
    Ok(ok(
        &json!({ "USDCentsPerDeSo": settings.usd_cents_per_deso.unwrap_or(0) }),
    ))
}
