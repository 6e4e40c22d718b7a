//! POST /networks/{network_id}/connections/{program_id}
//!
//! Round trips: one BatchGetItem (key, program, both memberships and profiles) and one
//! TransactWriteItems, at any depth. A backfill (the user already has referees) moves its
//! subtree: a few more within the request when it fits one transaction, else a 202 and a job.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::{link_response, network, program_id, user_field};
use crate::http::{json_body, ApiError};
use crate::store::graph::link::LinkRequest;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("add-connection");

#[derive(Deserialize)]
struct AddConnection {
    user: String,
    connection: String,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let body: AddConnection = json_body(&req, false)?;
    let user = user_field(state, "user", &body.user)?;
    let referrer = user_field(state, "connection", &body.connection)?;
    let metadata = metadata_string(body.metadata)?;
    let outcome = state
        .store
        .link(
            &LinkRequest {
                metadata,
                ..LinkRequest::new(&net, &prog, &user, &referrer)
            },
            Some(&probe),
        )
        .await?;
    link_response(&net, &prog, outcome, StatusCode::CREATED)
}

/// `metadata` is kept as JSON text; it must be an object when given.
pub(crate) fn metadata_string(m: Option<serde_json::Value>) -> Result<Option<String>, ApiError> {
    match m {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v @ serde_json::Value::Object(_)) => Ok(Some(v.to_string())),
        Some(_) => Err(ApiError::bad_request(
            "invalid_body",
            "metadata must be a JSON object",
        )),
    }
}
