//! POST /networks/{network_id}/rewards/{reward_id}/approve (`reward_status`).

use lambda_http::{Body, Request, Response};

use crate::http::ApiError;
use crate::AppState;

const PATH: &str = crate::routes::path_of("approve-reward");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    super::reward_status::change(state, req, PATH, false).await
}
