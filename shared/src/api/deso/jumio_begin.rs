//! POST /api/v0/jumio-begin
//!
//! Round trips: a BatchGetItem (code, begin and credit records), a BatchGetItem (what a link
//! through the code reads) and one TransactWriteItems. Refnet starts no identity verification
//! itself: the answer's URL is empty.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{hash, ok, user, UserCred};
use crate::domain::UserId;
use crate::http::{json_body, ApiError};
use crate::store::deso::begin::BeginOutcome;
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Begin {
    /// DeSo's frontend names the key `PublicKey`; `PublicKeyBase58Check` is taken too.
    #[serde(rename = "PublicKey")]
    public_key: String,
    #[serde(rename = "PublicKeyBase58Check")]
    public_key_base58check: String,
    #[serde(rename = "JWT")]
    jwt: String,
    #[serde(rename = "ReferralHashBase58")]
    referral_hash: String,
    #[serde(rename = "SuccessURL")]
    #[allow(dead_code)]
    success_url: String,
    #[serde(rename = "ErrorURL")]
    #[allow(dead_code)]
    error_url: String,
}

crate::api::endpoint!(serve_deso, public_retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Begin = json_body(&req, false)?;
    let key = if body.public_key.trim().is_empty() {
        body.public_key_base58check
    } else {
        body.public_key
    };
    let key = user(
        &state.config,
        &UserCred {
            public_key: key,
            jwt: body.jwt,
        },
    )?;
    let started = ok(&json!({ "URL": "" }));
    if body.referral_hash.trim().is_empty() {
        // A begin without a referral: nothing to count.
        return Ok(started);
    }
    let code = hash("ReferralHashBase58", &body.referral_hash)?;
    match state
        .public_store
        .jumio_begin(&state.config.deso_network_id, &UserId::Deso(key), &code)
        .await?
    {
        BeginOutcome::Started | BeginOutcome::Ignored => Ok(started),
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
