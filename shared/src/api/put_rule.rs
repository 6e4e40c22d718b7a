//! PUT /networks/{network_id}/connections/{program_id}/rules/{rule_id}
//!
//! Round trips: the key, the program and the rule in one BatchGetItem, then one transaction.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::rewards_json::rule_json;
use super::{network, program_id, program_not_found};
use crate::domain::reward::RulePatch;
use crate::domain::ProgramId;
use crate::http::{created_or_ok, json_body, json_response, path_param, ApiError};
use crate::store::rewards::rules::PutRule;
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("put-rule");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize)]
struct Body_ {
    rule: RulePatch,
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let raw = path_param(&req, PATH, "rule_id")?;
    let rule_id = ProgramId::try_from(raw.as_str()).map_err(|_| {
        ApiError::bad_request(
            "invalid_rule_id",
            "rule_id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'",
        )
    })?;
    let body: Body_ = json_body(&req, false)?;
    let now = clock::now().rfc3339;
    match state
        .store
        .put_rule(&net, &prog, &rule_id, &probe, &body.rule, &now)
        .await?
    {
        PutRule::Auth(f) => Err(f.into()),
        PutRule::ProgramNotFound => Err(program_not_found(&prog)),
        PutRule::Invalid(e) => Err(e.into()),
        PutRule::Limit => Err(ApiError::conflict(
            "rule_limit",
            "a program has at most 50 rules; deactivate or reuse one",
        )),
        PutRule::Done { rule, created } => Ok(json_response(
            created_or_ok(created),
            &json!({ "rule": rule_json(&rule) }),
        )),
    }
}
