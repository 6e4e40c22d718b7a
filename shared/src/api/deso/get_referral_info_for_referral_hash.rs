//! POST /api/v0/get-referral-info-for-referral-hash (no auth)
//!
//! One round trip: a BatchGetItem of the code, its shards, the viewer's country bonus and the
//! settings.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{hash, ok};
use crate::domain::deso::Alpha3;
use crate::http::{json_body, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct HashQuery {
    #[serde(rename = "ReferralHash")]
    referral_hash: String,
}

crate::api::endpoint!(serve_deso, public_retry_budget);

/// The viewer's country: CF-IPCountry, else CloudFront-Viewer-Country.
pub(crate) fn viewer_country(req: &Request) -> Option<Alpha3> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    header("cf-ipcountry")
        .or_else(|| header("cloudfront-viewer-country"))
        .and_then(|v| Alpha3::from_alpha2_header(Some(v)))
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: HashQuery = json_body(&req, false)?;
    let code = hash("ReferralHash", &body.referral_hash)?;
    let country = viewer_country(&req);
    let (found, bonus) = state
        .public_store
        .code_with_bonus(&state.config.deso_network_id, &code, country.as_ref())
        .await?;
    let c = found
        .ok_or_else(|| ApiError::not_found("hash_not_found", format!("no referral hash {code}")))?;
    Ok(ok(&json!({
        "ReferralInfoResponse": {
            "IsActive": c.active,
            "Info": {
                "ReferralHashBase58": c.code.as_str(),
                "RefereeAmountUSDCents": c.config.referee_amount_usd_cents.get(),
                "MaxReferrals": c.config.max_referrals,
                "TotalReferrals": c.totals.total_referrals,
            }
        },
        "CountrySignUpBonus": bonus,
    })))
}
