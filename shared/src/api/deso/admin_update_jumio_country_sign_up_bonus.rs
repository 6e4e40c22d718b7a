//! POST /api/v0/admin/update-jumio-country-sign-up-bonus
//!
//! Round trips: one PutItem of the country's bonus.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, cents, ok, AdminCred, Role};
use crate::domain::deso::{Alpha3, CountryBonus};
use crate::http::{json_body, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Update {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "CountryCode")]
    country: String,
    #[serde(rename = "CountryLevelSignUpBonus")]
    bonus: BonusFields,
}

/// DeSo's CountryLevelSignUpBonus as sent: missing fields are Go's zero values.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct BonusFields {
    allow_custom_referral_amount: bool,
    #[serde(rename = "ReferralAmountOverrideUSDCents")]
    referral_amount_override_usd_cents: u64,
    allow_custom_kickback_amount: bool,
    #[serde(rename = "KickbackAmountOverrideUSDCents")]
    kickback_amount_override_usd_cents: u64,
}

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Update = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let country = Alpha3::try_from(body.country.trim())?;
    let b = &body.bonus;
    let bonus = CountryBonus {
        allow_custom_referral_amount: b.allow_custom_referral_amount,
        referral_amount_override_usd_cents: cents(
            "ReferralAmountOverrideUSDCents",
            b.referral_amount_override_usd_cents,
        )?
        .get()
        .into(),
        allow_custom_kickback_amount: b.allow_custom_kickback_amount,
        kickback_amount_override_usd_cents: cents(
            "KickbackAmountOverrideUSDCents",
            b.kickback_amount_override_usd_cents,
        )?
        .get()
        .into(),
    };
    state
        .store
        .put_country_bonus(&state.config.deso_network_id, &country, &bonus)
        .await?;
    Ok(ok(&json!({})))
}
