//! GET /api/v0/admin/get-usd-cents-to-deso-reserve-exchange-rate (no authentication, as DeSo)
//!
//! Round trips: one GetItem of the network's settings.

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;

use super::ok;
use crate::http::{serve_deso, ApiError};
use crate::AppState;

/// This function's handler, as its Lambda binary and the tests run it.
pub const HANDLER: crate::lambda::Handler =
    crate::lambda::Handler::Http(|state, input| Box::pin(handle(state, input)));

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(state.config.retry_budget, req, |req| run(state, req)).await
}

async fn run(state: &AppState, _req: Request) -> Result<Response<Body>, ApiError> {
    let settings = state
        .store
        .deso_settings(&state.config.deso_network_id)
        .await?;
    Ok(ok(
        &json!({ "USDCentsPerDeSo": settings.usd_cents_per_deso.unwrap_or(0) }),
    ))
}
