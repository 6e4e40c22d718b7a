//! PATCH /networks/{network_id}/codes/{code}
//!
//! Round trips: the key's GetItem beside the code's BatchGetItem (its exact text and its name
//! in lower case; a second read for a name in another case), then the code and its shards
//! (BatchGetItem) and one TransactWriteItems that changes them all.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::code_fields::{expires_ms, max_referrals};
use super::{code_json, code_not_found, network};
use crate::domain::ReferralCode;
use crate::http::{from_fields, json_fields, json_response, path_param, ApiError};
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("update-code");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize, Default)]
struct PatchBody {
    active: Option<bool>,
    max_referrals: Option<u64>,
    expires_at: Option<String>,
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let raw = path_param(&req, PATH, "code")?;
    let code = ReferralCode::try_from(raw.as_str())?;
    let fields = json_fields(&req, true)?;
    // null clears the expiry; elsewhere a null field is an absent one
    let clear = fields
        .get("expires_at")
        .is_some_and(serde_json::Value::is_null);
    let body: PatchBody = from_fields(fields)?;
    let max = body.max_referrals.map(max_referrals).transpose()?;
    // A time already past is taken: it ends the code now.
    let expires = match &body.expires_at {
        Some(t) => Some(Some(expires_ms(t, clock::now_ms(), false)?)),
        None if clear => Some(None),
        None => None,
    };
    let (auth, found) = tokio::join!(
        state.store.authenticate(&probe, &net),
        state.store.find_code(&net, &code)
    );
    auth?.map_err(ApiError::from)?;
    let found = found?.ok_or_else(code_not_found)?;
    let key = found.key()?;
    let updated = state
        .store
        .update_code(&net, &key, |c| {
            if let Some(a) = body.active {
                c.active = a;
            }
            if let Some(m) = max {
                c.max_referrals = m;
            }
            if let Some(e) = expires {
                c.expires_ms = e;
            }
        })
        .await?
        .ok_or_else(code_not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "code": code_json(&updated, clock::now_ms()) }),
    ))
}
