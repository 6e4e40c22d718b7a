//! One module per endpoint: parse the request, call domain and store, build the response.

pub mod add_connection;
pub mod deso;
pub mod get_connection_codes;
pub mod get_user_connections;
pub mod list_programs;
pub mod upsert_program;
pub mod user_status;

use lambda_http::http::StatusCode;
use serde_json::{json, Value};

use crate::domain::{Code, NetworkId, Program, ProgramId, UserId};
use crate::http::ApiError;
use crate::store::links::{Connection, Refusal};

pub(crate) fn program_json(p: &Program) -> Value {
    json!({
        "program_id": p.id.as_str(),
        "name": p.name,
        "max_levels": p.max_levels,
        "active": p.active,
        "referrer_amount_usd_cents": p.referrer_amount_usd_cents.get(),
        "referee_amount_usd_cents": p.referee_amount_usd_cents.get(),
        "max_referrals_per_code": p.max_referrals_per_code,
        "created_at": p.created_at,
    })
}

pub(crate) fn connection_json(c: &Connection) -> Value {
    json!({
        "program_id": c.program_id.as_str(),
        "user": c.user.as_str(),
        "referrer": c.referrer.as_str(),
        "upline": c.upline.iter().map(UserId::as_str).collect::<Vec<_>>(),
        "created_at": c.created_at,
    })
}

pub(crate) fn code_json(c: &Code) -> Value {
    json!({
        "code": c.code.as_str(),
        "active": c.active,
        "max_referrals": c.max_referrals,
        "total_referrals": c.total_referrals,
        "created_at": c.created_at,
    })
}

pub(crate) fn refusal(r: Refusal, program: &ProgramId) -> ApiError {
    match r {
        Refusal::ProgramNotFound => program_not_found(program),
        Refusal::ProgramInactive => ApiError::conflict(
            "program_inactive",
            format!(
                "program '{program}' is inactive; activate it with PUT before connecting users"
            ),
        ),
        Refusal::SelfReferral => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "self_referral",
            "a user cannot be their own referrer",
        ),
        Refusal::AlreadyConnected => ApiError::conflict(
            "already_connected",
            "the user already has another referrer in this program",
        ),
        Refusal::Cycle => ApiError::conflict(
            "cycle",
            "the user is an ancestor of the referrer; this connection would close a cycle",
        ),
        Refusal::UserBanned => user_banned(),
        Refusal::SubtreeTooLarge => ApiError::conflict(
            "subtree_too_large",
            "the user already has too many referees to re-link them all in one transaction; \
             connect the user before their referees, or split the backfill",
        ),
        Refusal::CodeNotFound => code_not_found(),
        Refusal::CodeUnavailable => ApiError::conflict(
            "code_unavailable",
            "the referral code is inactive or has reached its maximum referrals",
        ),
    }
}

pub(crate) fn user_banned() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "user_banned",
        "the user or the referrer is banned",
    )
}

pub(crate) fn code_not_found() -> ApiError {
    ApiError::not_found("code_not_found", "no such referral code in this network")
}

pub(crate) fn program_not_found(program: &ProgramId) -> ApiError {
    ApiError::not_found(
        "program_not_found",
        format!("no program '{program}' in this network; create it with PUT first"),
    )
}

/// Path's network id.
pub(crate) fn network(req: &lambda_http::Request, template: &str) -> Result<NetworkId, ApiError> {
    let raw = crate::http::path_param(req, template, "network_id")?;
    Ok(NetworkId::try_from(raw.as_str())?)
}

pub(crate) fn program_id(
    req: &lambda_http::Request,
    template: &str,
) -> Result<ProgramId, ApiError> {
    let raw = crate::http::path_param(req, template, "program_id")?;
    Ok(ProgramId::try_from(raw.as_str())?)
}

/// A user id from a body field, with the field named in the error.
pub(crate) fn user_field(
    state: &crate::AppState,
    field: &str,
    raw: &str,
) -> Result<UserId, ApiError> {
    UserId::parse(raw, state.config.deso_key_network)
        .map_err(|e| ApiError::bad_request("invalid_user", format!("{field}: {e}")))
}

/// The `{user}` path parameter.
pub(crate) fn path_user(
    state: &crate::AppState,
    req: &lambda_http::Request,
    template: &str,
) -> Result<UserId, ApiError> {
    let raw = crate::http::path_param(req, template, "user")?;
    Ok(UserId::parse(&raw, state.config.deso_key_network)?)
}
