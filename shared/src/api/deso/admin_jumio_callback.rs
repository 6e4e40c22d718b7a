//! POST /api/v0/admin/jumio-callback
//!
//! Round trips: one BatchGetItem (the user's begin record with what it saw, the credit
//! record, settings, country bonus) and one TransactWriteItems. When what the begin record
//! saw has changed, the transaction is refused and the request reads afresh.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, user_key, AdminCred, Role};
use crate::domain::deso::Alpha3;
use crate::domain::UserId;
use crate::http::{json_body, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Callback {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "PublicKeyBase58Check")]
    user: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "CountryAlpha3")]
    country: String,
}

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Callback = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let user = UserId::Deso(user_key(
        &state.config,
        "PublicKeyBase58Check",
        &body.user,
        &body.username,
    )?);
    // "" (the frontend's default) means no country: the default bonus.
    let country = match body.country.trim() {
        "" => None,
        c => Some(Alpha3::try_from(c).map_err(|_| {
            ApiError::bad_request(
                "invalid_country",
                "CountryAlpha3 must be an ISO 3166-1 alpha-3 code of DeSo's list, or empty",
            )
        })?),
    };
    let out = state
        .store
        .jumio_credit(&state.config.deso_network_id, &user, country.as_ref())
        .await?;
    Ok(ok(&json!({
        "Credited": out.credited,
        "ReferralCounted": out.counted,
        "RefereeAmountUSDCents": out.referee_usd_cents,
        "ReferrerAmountUSDCents": out.referrer_usd_cents,
    })))
}
