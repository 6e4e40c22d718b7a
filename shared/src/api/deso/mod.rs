//! The DeSo-compatible Referral API: PascalCase JSON, `{"error": "..."}` bodies.

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
pub mod jumio_begin;

use lambda_http::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) use crate::auth::deso::Role;
use crate::auth::deso::{authenticate_user, authorize_admin, parse_key, AuthError};
use crate::config::Config;
use crate::domain::referral_csv::MAX_USD_CENTS;
use crate::domain::{Code, DesoPublicKey, ReferralCode};
use crate::http::ApiError;
use crate::store::deso::CodeConfig;

#[derive(Deserialize)]
pub(crate) struct AdminCred {
    #[serde(rename = "AdminPublicKey")]
    pub admin_public_key: String,
    #[serde(rename = "JWT")]
    pub jwt: String,
}

#[derive(Deserialize)]
pub(crate) struct UserCred {
    #[serde(rename = "PublicKeyBase58Check")]
    pub public_key: String,
    #[serde(rename = "JWT")]
    pub jwt: String,
}

/// Every credential failure becomes a status here, and only here.
impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadKey { .. } => ApiError::bad_request("invalid_key", e.to_string()),
            AuthError::Jwt(_) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
            }
            AuthError::NotAdmin | AuthError::NotSuperAdmin => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
        }
    }
}

pub(crate) fn deso_key(
    config: &Config,
    field: &'static str,
    raw: &str,
) -> Result<DesoPublicKey, ApiError> {
    Ok(parse_key(field, raw, config.deso_key_network)?)
}

/// The user named by the credential, once its JWT verifies.
pub(crate) fn user(config: &Config, cred: &UserCred) -> Result<DesoPublicKey, ApiError> {
    Ok(authenticate_user(
        config,
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
        config,
        "AdminPublicKey",
        &cred.admin_public_key,
        &cred.jwt,
        role,
    )?)
}

pub(crate) fn cents(field: &str, v: u64) -> Result<u32, ApiError> {
    if v > MAX_USD_CENTS {
        return Err(ApiError::bad_request(
            "invalid_amount",
            format!("{field} must be at most {MAX_USD_CENTS}"),
        ));
    }
    Ok(v as u32)
}

pub(crate) fn hash(field: &str, raw: &str) -> Result<ReferralCode, ApiError> {
    ReferralCode::try_from(raw.trim()).map_err(|_| {
        ApiError::bad_request(
            "invalid_hash",
            format!("{field} must be 8 characters of base58"),
        )
    })
}

/// The four config fields of a code, as DeSo's admin routes send them.
#[derive(Deserialize)]
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
        "ReferrerAmountUSDCents": c.referrer_amount_usd_cents,
        "RefereeAmountUSDCents": c.referee_amount_usd_cents,
        "MaxReferrals": c.max_referrals,
        "RequiresJumio": c.requires_jumio,
        "NumJumioAttempts": c.num_jumio_attempts,
        "NumJumioSuccesses": c.num_jumio_successes,
        "TotalReferrals": c.total_referrals,
        "TotalReferrerDeSoNanos": c.total_referrer_deso_nanos,
        "TotalRefereeDeSoNanos": c.total_referee_deso_nanos,
        "DateCreatedTStampNanos": c.created_ns,
    })
}

pub(crate) fn referral_info_response(c: &Code, referred: Vec<Value>) -> Value {
    json!({"IsActive": c.active, "Info": referral_info(c), "ReferredUsers": referred})
}

#[derive(Deserialize)]
struct SetNumber {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// A super admin sets one number of the network's settings: `field` on the wire, `attr` stored.
pub(crate) async fn set_number(
    state: &crate::AppState,
    req: lambda_http::Request,
    field: &'static str,
    attr: &'static str,
    check: fn(u64) -> Result<u64, ApiError>,
) -> Result<lambda_http::Response<lambda_http::Body>, ApiError> {
    let body: SetNumber = crate::http::json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let value = body
        .rest
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            ApiError::bad_request("invalid_body", format!("{field} must be a whole number"))
        })?;
    let value = check(value)?;
    state
        .store
        .set_deso_setting(&state.config.deso_network_id, attr, value)
        .await?;
    Ok(ok(&json!({ field: value })))
}

pub(crate) fn ok(body: &Value) -> lambda_http::Response<lambda_http::Body> {
    crate::http::json_response(StatusCode::OK, body)
}
