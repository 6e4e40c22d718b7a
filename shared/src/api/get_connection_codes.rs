//! GET /networks/{network_id}/connections/{program_id}/users/{user}/codes
//!
//! Round trips: BatchGetItem (key, program) and the GSI1 Query of the user's codes, side by
//! side; on the first call, a GetItem of the profile and the TransactWriteItems that creates
//! the default code.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{code_json, network, path_user, program_id, program_not_found};
use crate::http::{json_response, ApiError};
use crate::store::codes::DefaultCode;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("get-connection-codes");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let (head, codes) = tokio::join!(
        state.store.program_head(&net, &prog, &probe),
        state.store.user_codes(&net, &user, Some(&prog))
    );
    let (auth, program) = head?;
    auth.map_err(ApiError::from)?;
    let program = program.ok_or_else(|| program_not_found(&prog))?;
    let mut codes = codes?;
    let now = crate::clock::now_ms();
    if codes.is_empty() {
        match state
            .store
            .ensure_default_code(&net, &program, &user)
            .await?
        {
            DefaultCode::Created(c) | DefaultCode::Existing(c) => codes.push(c),
            DefaultCode::OwnerBanned => {}
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "user": user.as_str(),
            "program_id": prog.as_str(),
            "codes": codes.iter().map(|c| code_json(c, now)).collect::<Vec<_>>(),
        }),
    ))
}
