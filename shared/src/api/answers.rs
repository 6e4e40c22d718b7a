//! The JSON of the items the endpoints answer with, and the answers several share.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{json, Value};

use super::refusal;
use crate::domain::{Code, NetworkId, Program, ProgramId, UserId};
use crate::http::{json_response, ApiError};
use crate::store::graph::link::{Connection, LinkOutcome};
use crate::store::jobs::JobView;

pub(crate) fn program_json(p: &Program) -> Value {
    json!({
        "program_id": p.id.as_str(),
        "name": p.name,
        "max_levels": p.max_levels.get(),
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

pub(crate) fn code_json(c: &Code, now_ms: u64) -> Value {
    json!({
        "code": c.code.as_str(),
        "active": c.active,
        "status": c.status(now_ms).as_str(),
        "max_referrals": c.config.max_referrals,
        "total_referrals": c.totals.total_referrals,
        "expires_at": c.expires_ms.map(crate::clock::rfc3339_ms),
        "created_at": c.created_at,
    })
}

pub(crate) fn job_json(j: &JobView) -> Value {
    let mut v = json!({
        "id": j.id,
        "kind": j.kind,
        "status": j.status.as_str(),
        "moved": j.moved,
        "total": j.total,
    });
    if let Some(r) = &j.reason {
        v["reason"] = json!(r);
    }
    v
}

/// 202 with the job and a Location header of its GET Job.
pub(crate) fn job_accepted(net: &NetworkId, j: &JobView) -> Response<Body> {
    let mut resp = json_response(StatusCode::ACCEPTED, &json!({ "job": job_json(j) }));
    if let Ok(v) = HeaderValue::from_str(&format!("/networks/{net}/jobs/{}", j.id)) {
        resp.headers_mut().insert("location", v);
    }
    resp
}

/// The answer of Add Connection and Change Referrer: the connection, or the job doing it.
pub(crate) fn link_response(
    net: &NetworkId,
    prog: &ProgramId,
    outcome: LinkOutcome,
    created_status: StatusCode,
) -> Result<Response<Body>, ApiError> {
    match outcome {
        LinkOutcome::Auth(f) => Err(f.into()),
        LinkOutcome::Refused(r) => Err(refusal(r, prog)),
        LinkOutcome::Job(j) => Ok(job_accepted(net, &j)),
        LinkOutcome::Removed => Ok(json_response(StatusCode::OK, &json!({"connection": null}))),
        LinkOutcome::Linked {
            connection,
            created,
            ..
        } => Ok(json_response(
            if created {
                created_status
            } else {
                StatusCode::OK
            },
            &json!({ "connection": connection_json(&connection) }),
        )),
    }
}
