//! POST /networks/{network_id}/user_status

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::add_connection::metadata_string;
use super::{connection_json, network, program_not_found, refusal, user_field};
use crate::domain::link::Refusal;
use crate::domain::{NetworkId, ProgramId, ReferralCode, UserId, UserStatus};
use crate::http::{created_or_ok, json_body, json_response, ApiError};
use crate::store::graph::link::{LinkOutcome, LinkRequest};
use crate::store::users::StatusOutcome;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("user-status");

#[derive(Deserialize)]
struct UserStatusBody {
    user: String,
    status_change: String,
    #[serde(default)]
    referrer: Option<String>,
    #[serde(default)]
    referral_program_id: Option<String>,
    /// Accepted for compatibility; Refnet sends no email.
    #[serde(default)]
    #[allow(dead_code)]
    send_email: Option<bool>,
    #[serde(default)]
    metadata: Option<Value>,
}

enum Change {
    Create,
    Revoke,
    Ban,
}

/// The referrer field: a user, or a code (which decides the program).
enum Referrer {
    User(UserId, ProgramId),
    Code(ReferralCode),
}

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let body: UserStatusBody = json_body(&req, false)?;
    let user = user_field(state, "user", &body.user)?;
    let change = match body.status_change.as_str() {
        "create_user" => Change::Create,
        "revoke_invite" => Change::Revoke,
        "ban" => Change::Ban,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_status_change",
                "status_change must be create_user, revoke_invite or ban",
            ))
        }
    };
    // Checked whenever it is sent, even where it goes unused: a bad field is never ignored.
    let program = match body.referral_program_id.as_deref() {
        None | Some("") => None,
        Some(p) => Some(ProgramId::try_from(p).map_err(|e| {
            ApiError::bad_request("invalid_program_id", format!("referral_program_id: {e}"))
        })?),
    };
    // Only create_user uses a referrer, but every change checks one that is sent.
    let referrer = match body.referrer.as_deref() {
        Some(r) if !r.trim().is_empty() => Some(parse_referrer(state, r, program)?),
        _ => None,
    };
    let metadata = metadata_string(body.metadata)?;
    state
        .store
        .authenticate(&probe, &net)
        .await?
        .map_err(ApiError::from)?;

    let store = &state.store;
    let outcome = match change {
        Change::Ban => store.ban_user(&net, &user).await?,
        Change::Revoke => store.revoke_user(&net, &user).await?,
        Change::Create => match referrer {
            None => store.create_user(&net, &user).await?,
            Some(r) => return create_with_referrer(state, &net, &user, r, metadata).await,
        },
    };
    status_response(&user, outcome, None)
}

fn parse_referrer(
    state: &AppState,
    raw: &str,
    program: Option<ProgramId>,
) -> Result<Referrer, ApiError> {
    // A DeSo key is longer than any code.
    let looks_like_user = raw.contains('@') || raw.trim().len() > crate::domain::ids::VANITY_MAX;
    if looks_like_user {
        let who = user_field(state, "referrer", raw)?;
        let prog = program.ok_or_else(|| {
            ApiError::bad_request(
                "missing_referral_program_id",
                "referral_program_id is required when referrer is a user",
            )
        })?;
        return Ok(Referrer::User(who, prog));
    }
    ReferralCode::try_from(raw.trim())
        .map(Referrer::Code)
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_referrer",
                "referrer must be an email, a DeSo public key or a referral code",
            )
        })
}

async fn create_with_referrer(
    state: &AppState,
    net: &NetworkId,
    user: &UserId,
    referrer: Referrer,
    metadata: Option<String>,
) -> Result<Response<Body>, ApiError> {
    let (who, prog, code) = match referrer {
        Referrer::User(u, p) => (u, p, None),
        Referrer::Code(c) => match state.store.find_code(net, &c).await? {
            Some(found) => {
                let found = found.into_code(Default::default())?;
                (found.owner, found.program, Some(found.code))
            }
            None => return Err(super::code_not_found()),
        },
    };
    let outcome = state
        .store
        .link(
            &LinkRequest {
                code: code.as_ref(),
                metadata,
                ..LinkRequest::new(net, &prog, user, &who)
            },
            None,
        )
        .await?;
    match outcome {
        LinkOutcome::Linked {
            connection,
            created: true,
            user_was_new,
        } => status_response(
            user,
            StatusOutcome::Done {
                status: UserStatus::Active,
                created: user_was_new,
            },
            Some(connection_json(&connection)),
        ),
        // The user has a referrer in this program already: the referrer is ignored.
        LinkOutcome::Linked { created: false, .. }
        | LinkOutcome::Refused(Refusal::AlreadyConnected) => {
            let outcome = state.store.create_user(net, user).await?;
            status_response(user, outcome, None)
        }
        LinkOutcome::Refused(Refusal::ProgramNotFound) => Err(program_not_found(&prog)),
        LinkOutcome::Refused(r) => Err(refusal(r, &prog)),
        LinkOutcome::Auth(f) => Err(f.into()),
        // The user already had referees: their subtree moves with them, in a job.
        LinkOutcome::Job(j) => Ok(super::job_accepted(net, &j)),
        LinkOutcome::Removed => Err(crate::http::internal()),
    }
}

fn status_response(
    user: &UserId,
    outcome: StatusOutcome,
    connection: Option<Value>,
) -> Result<Response<Body>, ApiError> {
    match outcome {
        StatusOutcome::Done { status, created } => Ok(json_response(
            created_or_ok(created),
            &json!({"user": user.as_str(), "status": status.as_str(), "connection": connection}),
        )),
        StatusOutcome::NotFound => Err(ApiError::not_found(
            "user_not_found",
            "no such user in this network",
        )),
        StatusOutcome::Connected => Err(ApiError::conflict(
            "user_connected",
            "the user takes part in connections; ban them instead",
        )),
        StatusOutcome::Banned => Err(super::user_banned()),
    }
}
