//! POST /api/v0/admin/update-jumio-usd-cents

use lambda_http::{Body, Error, Request, Response};

use super::{cents, set_number};
use crate::http::{serve_deso, ApiError};
use crate::AppState;

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    set_number(state, req, "USDCents", "jumio_usd_cents", |v| {
        cents("USDCents", v).map(u64::from)
    })
    .await
}
