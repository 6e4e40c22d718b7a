//! POST /networks/{network_id}/connections/{program_id}/users/{user}/codes
//!
//! Round trips: BatchGetItem (key, program), then one TransactWriteItems: the owner's profile,
//! the code, its network index entry, for a chosen code its name, and for an expiring code
//! its shards.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::code_fields::{expires_ms, max_referrals, vanity};
use super::{code_json, network, path_user, program_id, program_not_found, user_banned};
use crate::domain::CodeConfig;
use crate::http::{json_body, json_response, ApiError};
use crate::store::codes::CreateOutcome;
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("create-code");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize, Default)]
struct CreateBody {
    code: Option<String>,
    max_referrals: Option<u64>,
    expires_at: Option<String>,
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let body: CreateBody = json_body(&req, true)?;
    let now = clock::now_ms();
    let named = body.code.as_deref().map(vanity).transpose()?;
    let max = body.max_referrals.map(max_referrals).transpose()?;
    let expires = body
        .expires_at
        .as_deref()
        .map(|t| expires_ms(t, now, true))
        .transpose()?;
    let (auth, program) = state.store.program_head(&net, &prog, &probe).await?;
    auth.map_err(ApiError::from)?;
    let program = program.ok_or_else(|| program_not_found(&prog))?;
    let config = CodeConfig {
        referrer_amount_usd_cents: program.referrer_amount_usd_cents,
        referee_amount_usd_cents: program.referee_amount_usd_cents,
        max_referrals: max.unwrap_or(program.max_referrals_per_code.into()),
        requires_jumio: false,
    };
    let made = state
        .store
        .insert_code(&net, &prog, &user, config, named.as_ref(), expires)
        .await?;
    match made {
        Some(CreateOutcome::Created(code)) => Ok(json_response(
            StatusCode::CREATED,
            &json!({ "code": code_json(&code, clock::now_ms()) }),
        )),
        Some(CreateOutcome::OwnerBanned) => Err(user_banned()),
        Some(CreateOutcome::ProgramNotFound) => Err(program_not_found(&prog)),
        None => Err(ApiError::conflict(
            "code_taken",
            "this code is taken, in some letter case; choose another",
        )),
    }
}
