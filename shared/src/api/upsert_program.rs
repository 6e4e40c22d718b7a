//! PUT /networks/{network_id}/connections/{program_id}

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{network, program_id, program_json};
use crate::domain::ProgramPatch;
use crate::http::{created_or_ok, json_body, json_response, ApiError};
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("upsert-program");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let patch: ProgramPatch = json_body(&req, true)?;
    patch.validate()?;
    state
        .store
        .authenticate(&probe, &net)
        .await?
        .map_err(ApiError::from)?;
    let (program, created) = state
        .store
        .upsert_program(&net, &prog, &patch, &clock::now().rfc3339)
        .await?;
    Ok(json_response(
        created_or_ok(created),
        &json!({ "program": program_json(&program) }),
    ))
}
