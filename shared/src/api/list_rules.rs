//! GET /networks/{network_id}/connections/{program_id}/rules
//!
//! Round trips: the key and the program in one BatchGetItem, then the rules' Query.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::rewards_json::rule_json;
use super::{network, program_id, program_not_found};
use crate::http::{json_response, ApiError};
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("list-rules");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let (auth, program) = state.store.program_head(&net, &prog, &probe).await?;
    auth.map_err(ApiError::from)?;
    if program.is_none() {
        return Err(program_not_found(&prog));
    }
    let rules = state.store.program_rules(&net, &prog).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "rules": rules.iter().map(rule_json).collect::<Vec<_>>() }),
    ))
}
