//! PUT /networks/{network_id}/connections/{program_id}/users/{user}/referrer
//!
//! Sets or changes the user's referrer; its subtree moves along. Round trips: one
//! BatchGetItem and one TransactWriteItems for a user without referees; a user with referees
//! raises its tree's fence, moves within the request when it fits one transaction (200), or
//! answers 202 with the job that moves it.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::add_connection::metadata_string;
use super::{link_response, network, path_user, program_id, user_field};
use crate::domain::link::LinkMode;
use crate::http::{json_body, ApiError};
use crate::store::graph::link::LinkRequest;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("change-referrer");

#[derive(Deserialize)]
struct ChangeReferrer {
    connection: String,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let body: ChangeReferrer = json_body(&req, false)?;
    let referrer = user_field(state, "connection", &body.connection)?;
    let metadata = metadata_string(body.metadata)?;
    let outcome = state
        .store
        .link(
            &LinkRequest {
                metadata,
                mode: LinkMode::Change,
                ..LinkRequest::new(&net, &prog, &user, &referrer)
            },
            Some(&probe),
        )
        .await?;
    link_response(&net, &prog, outcome, StatusCode::OK)
}
