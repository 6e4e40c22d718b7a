//! POST /api/v0/admin/update-jumio-usd-cents
//!
//! Round trips: one UpdateItem of the network's settings.

use lambda_http::{Body, Error, Request, Response};

use super::set_number;
use crate::domain::deso::DesoSetting;
use crate::http::{serve_deso, ApiError};
use crate::AppState;

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(state.config.retry_budget, req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    set_number(state, req, "USDCents", DesoSetting::JumioUsdCents).await
}
