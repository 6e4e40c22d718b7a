//! POST /api/v0/admin/update-jumio-usd-cents
//!
//! Round trips: one UpdateItem of the network's settings.

use lambda_http::{Body, Error, Request, Response};

use super::set_number;
use crate::domain::deso::DesoSetting;
use crate::http::{serve_deso, ApiError};
use crate::AppState;

/// This function's handler, as its Lambda binary and the tests run it.
pub const HANDLER: crate::lambda::Handler =
    crate::lambda::Handler::Http(|state, input| Box::pin(handle(state, input)));

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(state.config.retry_budget, req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    set_number(state, req, "USDCents", DesoSetting::JumioUsdCents).await
}
