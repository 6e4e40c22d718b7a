//! The DeSo-compatible Referral API: PascalCase JSON, `{"error": "..."}` bodies.
//!
//! Requests decode as DeSo's Go server decodes them: a missing field is its zero value (0,
//! false, ""), validation then runs on that value, unknown fields are ignored.

pub mod admin_create_referral_hash;
pub mod admin_download_referral_csv;
pub mod admin_get_all_country_level_sign_up_bonuses;
pub mod admin_get_all_referral_info_for_user;
pub mod admin_jumio_callback;
pub mod admin_set_usd_cents_to_deso_reserve_exchange_rate;
pub mod admin_update_jumio_country_sign_up_bonus;
pub mod admin_update_jumio_kickback_usd_cents;
pub mod admin_update_jumio_usd_cents;
pub mod admin_update_referral_hash;
pub mod admin_upload_referral_csv;
pub mod get_referral_info_for_referral_hash;
pub mod get_referral_info_for_user;
pub mod get_usd_cents_to_deso_reserve_exchange_rate;
pub mod jumio_begin;

use lambda_http::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) use crate::auth::deso::Role;
use crate::auth::deso::{authenticate_user, authorize_admin, parse_key};
use crate::config::Config;
use crate::domain::deso::DesoSetting;
use crate::domain::{Code, CodeConfig, DesoPublicKey, ReferralCode, UsdCents};
use crate::http::ApiError;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AdminCred {
    #[serde(rename = "AdminPublicKey")]
    pub admin_public_key: String,
    #[serde(rename = "JWT")]
    pub jwt: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct UserCred {
    #[serde(rename = "PublicKeyBase58Check")]
    pub public_key: String,
    #[serde(rename = "JWT")]
    pub jwt: String,
}

pub(crate) fn deso_key(
    config: &Config,
    field: &'static str,
    raw: &str,
) -> Result<DesoPublicKey, ApiError> {
    Ok(parse_key(field, raw, config.deso_key_network)?)
}

/// The key of a user named by key (`field`) or by `Username`, as DeSo's clients send both.
/// Refnet keeps no profiles: a username alone cannot be resolved.
pub(crate) fn user_key(
    config: &Config,
    field: &'static str,
    key: &str,
    username: &str,
) -> Result<DesoPublicKey, ApiError> {
    if key.trim().is_empty() && !username.trim().is_empty() {
        return Err(ApiError::bad_request(
            "username_unsupported",
            format!("Refnet keeps no profiles, so a Username cannot be looked up: send {field}, the user's public key"),
        ));
    }
    deso_key(config, field, key)
}

/// The user named by the credential, once its JWT verifies.
pub(crate) fn user(config: &Config, cred: &UserCred) -> Result<DesoPublicKey, ApiError> {
    Ok(authenticate_user(
        config.deso_key_network,
        "PublicKeyBase58Check",
        &cred.public_key,
        &cred.jwt,
    )?)
}

/// An admin whose JWT verifies and whose key is on the allowlist the route needs.
pub(crate) fn admin(
    config: &Config,
    cred: &AdminCred,
    role: Role,
) -> Result<DesoPublicKey, ApiError> {
    Ok(authorize_admin(
        &config.admin_policy(),
        "AdminPublicKey",
        &cred.admin_public_key,
        &cred.jwt,
        role,
    )?)
}

pub(crate) fn cents(field: &str, v: u64) -> Result<UsdCents, ApiError> {
    Ok(UsdCents::of(field, v)?)
}

pub(crate) fn hash(field: &str, raw: &str) -> Result<ReferralCode, ApiError> {
    ReferralCode::hash(raw.trim()).map_err(|_| {
        ApiError::bad_request(
            "invalid_hash",
            format!("{field} must be 8 characters of base58"),
        )
    })
}

/// A Refnet `Limit` extension: 0 (DeSo's clients send none) means `max`.
pub(crate) fn page_limit(limit: u64, max: usize, what: &str) -> Result<usize, ApiError> {
    match usize::try_from(limit) {
        Ok(0) => Ok(max),
        Ok(n) if n <= max => Ok(n),
        _ => Err(ApiError::bad_request(
            "invalid_limit",
            format!("Limit is 1 to {max} {what}"),
        )),
    }
}

/// A Refnet `Cursor` extension bound to `scope`: "" (DeSo's clients send none) is the start.
pub(crate) fn page_cursor(scope: &str, cursor: &str) -> Result<Option<String>, ApiError> {
    match cursor {
        "" => Ok(None),
        c => crate::http::decode_cursor(scope, c, |sk| !sk.is_empty() && sk.len() < 512).map(Some),
    }
}

/// The four config fields of a code, as DeSo's admin routes send them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConfigFields {
    #[serde(rename = "ReferrerAmountUSDCents")]
    pub referrer: u64,
    #[serde(rename = "RefereeAmountUSDCents")]
    pub referee: u64,
    #[serde(rename = "MaxReferrals")]
    pub max_referrals: u64,
    #[serde(rename = "RequiresJumio")]
    pub requires_jumio: bool,
}

impl ConfigFields {
    pub fn validate(&self) -> Result<CodeConfig, ApiError> {
        Ok(CodeConfig {
            referrer_amount_usd_cents: cents("ReferrerAmountUSDCents", self.referrer)?,
            referee_amount_usd_cents: cents("RefereeAmountUSDCents", self.referee)?,
            max_referrals: self.max_referrals,
            requires_jumio: self.requires_jumio,
        })
    }
}

/// DeSo's ReferralInfo. An email owner has no PKID: `[]`.
pub(crate) fn referral_info(c: &Code) -> Value {
    let pkid: Vec<u8> = c
        .owner
        .deso_key()
        .map(|k| k.key_bytes().to_vec())
        .unwrap_or_default();
    json!({
        "ReferralHashBase58": c.code.as_str(),
        "ReferrerPKID": pkid,
        "ReferrerAmountUSDCents": c.config.referrer_amount_usd_cents.get(),
        "RefereeAmountUSDCents": c.config.referee_amount_usd_cents.get(),
        "MaxReferrals": c.config.max_referrals,
        "RequiresJumio": c.config.requires_jumio,
        "NumJumioAttempts": c.totals.num_jumio_attempts,
        "NumJumioSuccesses": c.totals.num_jumio_successes,
        "TotalReferrals": c.totals.total_referrals,
        "TotalReferrerDeSoNanos": c.totals.total_referrer_deso_nanos,
        "TotalRefereeDeSoNanos": c.totals.total_referee_deso_nanos,
        "DateCreatedTStampNanos": c.created_ns,
    })
}

/// DeSo's ReferralInfoResponse; `referred` None is DeSo's `null` (create and update).
pub(crate) fn referral_info_response(c: &Code, referred: Option<Vec<Value>>) -> Value {
    json!({"IsActive": c.active, "Info": referral_info(c), "ReferredUsers": referred})
}

#[derive(Deserialize)]
struct SetNumber {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// A super admin sets one number of the network's settings: `field` on the wire.
pub(crate) async fn set_number(
    state: &crate::AppState,
    req: lambda_http::Request,
    field: &'static str,
    setting: DesoSetting,
) -> Result<lambda_http::Response<lambda_http::Body>, ApiError> {
    let body: SetNumber = crate::http::json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    // Go's decoder: a missing number is 0; anything but a whole number is bad input.
    let value = match body.rest.get(field) {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().ok_or_else(|| {
            ApiError::bad_request("invalid_body", format!("{field} must be a whole number"))
        })?,
    };
    let value = setting.validate(value)?;
    state
        .store
        .set_deso_setting(&state.config.deso_network_id, setting, value)
        .await?;
    Ok(ok(&json!({ field: value })))
}

pub(crate) fn ok(body: &Value) -> lambda_http::Response<lambda_http::Body> {
    crate::http::json_response(StatusCode::OK, body)
}
