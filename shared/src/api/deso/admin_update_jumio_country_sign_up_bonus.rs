//! POST /api/v0/admin/update-jumio-country-sign-up-bonus

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, cents, ok, AdminCred, Role};
use crate::domain::deso::{Alpha3, CountryBonus};
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize)]
struct Update {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "CountryCode")]
    country: String,
    #[serde(rename = "CountryLevelSignUpBonus")]
    bonus: CountryBonus,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Update = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let country = Alpha3::try_from(body.country.trim())?;
    cents(
        "ReferralAmountOverrideUSDCents",
        body.bonus.referral_amount_override_usd_cents,
    )?;
    cents(
        "KickbackAmountOverrideUSDCents",
        body.bonus.kickback_amount_override_usd_cents,
    )?;
    state
        .store
        .put_country_bonus(&state.config.deso_network_id, &country, &body.bonus)
        .await?;
    Ok(ok(&json!({})))
}
