//! How the Connections API says no: credential failures, link refusals, and the errors of
//! codes and programs that several endpoints share.

use lambda_http::http::StatusCode;

use crate::domain::code::CodeStatus;
use crate::domain::link::Refusal;
use crate::domain::ProgramId;
use crate::http::ApiError;

/// Every credential failure of both API families becomes a status here, and only here.
impl From<crate::auth::KeyRefusal> for ApiError {
    fn from(e: crate::auth::KeyRefusal) -> Self {
        use crate::auth::KeyRefusal;
        match e {
            KeyRefusal::OtherNetwork => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            _ => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string()),
        }
    }
}

impl From<crate::store::api_keys::AuthFailure> for ApiError {
    fn from(f: crate::store::api_keys::AuthFailure) -> Self {
        crate::auth::KeyRefusal::from(f).into()
    }
}

impl From<crate::auth::deso::AuthError> for ApiError {
    fn from(e: crate::auth::deso::AuthError) -> Self {
        use crate::auth::deso::AuthError;
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
        Refusal::SubtreeBusy => ApiError::conflict(
            "subtree_busy",
            "a move of this user's tree, or of the referrer's, is in progress; retry when its job is done",
        ),
        Refusal::NotConnected => ApiError::not_found(
            "not_connected",
            "the user has no referrer in this program",
        ),
        Refusal::CodeNotFound => code_not_found(),
        Refusal::CodeUnavailable(why) => code_unavailable(why),
    }
}

pub(crate) fn user_banned() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "user_banned",
        "the user or the referrer is banned",
    )
}

/// 409 `code_unavailable`, naming why.
pub(crate) fn code_unavailable(why: CodeStatus) -> ApiError {
    let message = match why {
        CodeStatus::Expired => "the referral code has expired",
        CodeStatus::Full => "the referral code has reached its maximum referrals",
        CodeStatus::Inactive | CodeStatus::Active => "the referral code is inactive",
    };
    ApiError::conflict("code_unavailable", message)
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
