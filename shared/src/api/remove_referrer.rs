//! DELETE /networks/{network_id}/connections/{program_id}/users/{user}/referrer
//!
//! The user becomes the root of its own subtree. Round trips as Change Referrer.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::{link_response, network, path_user, program_id};
use crate::http::ApiError;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("remove-referrer");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let outcome = state
        .store
        .remove_referrer(&net, &prog, &user, Some(&probe))
        .await?;
    link_response(&net, &prog, outcome, StatusCode::OK)
}
