//! POST /api/v0/jumio-begin

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{hash, ok, user, UserCred};
use crate::domain::UserId;
use crate::http::{json_body, serve_deso, ApiError};
use crate::store::deso::BeginOutcome;
use crate::AppState;

#[derive(Deserialize)]
struct Begin {
    #[serde(flatten)]
    cred: UserCred,
    #[serde(rename = "ReferralHashBase58")]
    referral_hash: String,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Begin = json_body(&req, false)?;
    let key = user(&state.config, &body.cred)?;
    let code = hash("ReferralHashBase58", &body.referral_hash)?;
    match state
        .store
        .jumio_begin(&state.config.deso_network_id, &UserId::Deso(key), &code)
        .await?
    {
        BeginOutcome::Started | BeginOutcome::Ignored => Ok(ok(&json!({}))),
        BeginOutcome::UnknownCode => Err(ApiError::not_found(
            "hash_not_found",
            format!("no referral hash {code}"),
        )),
        BeginOutcome::AlreadyCredited => Err(ApiError::conflict(
            "already_credited",
            "this user's sign-up was already credited",
        )),
    }
}
