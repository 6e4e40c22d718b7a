//! POST /api/v0/admin/set-usd-cents-to-deso-reserve-exchange-rate
//!
//! Round trips: one UpdateItem of the network's settings.

use lambda_http::{Body, Request, Response};

use super::set_number;
use crate::domain::deso::DesoSetting;
use crate::http::ApiError;
use crate::AppState;

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    set_number(state, req, "USDCentsPerDeSo", DesoSetting::UsdCentsPerDeso).await
}
