//! POST /api/v0/admin/update-referral-hash
//!
//! Round trips: one BatchGetItem (the code and its shards) and one TransactWriteItems (the
//! code and every shard, the cap split anew over what each has taken).

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, hash, ok, referral_info_response, AdminCred, ConfigFields, Role};
use crate::http::{json_body, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Update {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "ReferralHashBase58")]
    referral_hash: String,
    #[serde(flatten)]
    config: ConfigFields,
    #[serde(rename = "IsActive")]
    is_active: bool,
}

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Update = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let code = hash("ReferralHashBase58", &body.referral_hash)?;
    let config = body.config.validate()?;
    let updated = state
        .store
        .update_code(&state.config.deso_network_id, &code, |c| {
            c.set_config(config, body.is_active)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("hash_not_found", format!("no referral hash {code}")))?;
    Ok(ok(&json!({
        "ReferralInfoResponse": referral_info_response(&updated, None)
    })))
}
