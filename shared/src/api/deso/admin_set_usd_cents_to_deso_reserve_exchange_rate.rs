//! POST /api/v0/admin/set-usd-cents-to-deso-reserve-exchange-rate

use lambda_http::{Body, Error, Request, Response};

use super::set_number;
use crate::http::{serve_deso, ApiError};
use crate::AppState;

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    set_number(state, req, "USDCentsPerDeSo", "usd_cents_per_deso", |v| {
        if v < 1 {
            return Err(ApiError::bad_request(
                "invalid_rate",
                "USDCentsPerDeSo must be at least 1",
            ));
        }
        Ok(v)
    })
    .await
}
