//! GET /networks/{network_id}/connections/{program_id}/users/{user}
//!
//! Round trips: one BatchGetItem (key, program, membership with upline and counts), then one
//! Query for the downline page, skipped when the user has no downline.

use std::collections::BTreeMap;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use serde_json::json;

use super::{network, path_user, program_id, program_not_found};
use crate::domain::Level;
use crate::http::{
    decode_cursor, encode_cursor, json_response, limit, query_param, serve, ApiError,
};
use crate::store::keys;
use crate::store::links::Levels;
use crate::{auth, AppState};

const PATH: &str = "/networks/{network_id}/connections/{program_id}/users/{user}";

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve(req, |req| run(state, req)).await
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let level = match query_param(&req, "level") {
        None => None,
        Some(v) => Some(
            v.parse::<u8>()
                .ok()
                .and_then(Level::new)
                .ok_or_else(|| ApiError::bad_request("invalid_level", "level must be 1 to 10"))?,
        ),
    };
    let limit = limit(&req)?;
    let head = state.store.member_head(&net, &prog, &user, &probe).await?;
    head.auth.map_err(auth::refused)?;
    let program = head.program.ok_or_else(|| program_not_found(&prog))?;
    let max = program.max_levels;
    if let Some(l) = level {
        if l.get() > max {
            return Err(ApiError::bad_request(
                "invalid_level",
                format!("level must be 1 to {max}, the program's max_levels"),
            ));
        }
    }
    let levels = match level {
        Some(l) => Levels::Exactly(l.get()),
        None => Levels::UpTo(max),
    };
    let scope = format!("downline|{net}|{prog}|{user}|{levels:?}");
    let start = query_param(&req, "cursor")
        .map(|c| {
            decode_cursor(&scope, c, |sk| match keys::parse_edge_sk(sk) {
                Some((l, _, _)) => match levels {
                    Levels::Exactly(x) => l == x,
                    Levels::UpTo(x) => (1..=x).contains(&l),
                },
                None => false,
            })
        })
        .transpose()?;

    let member = head.member;
    let counts = member.as_ref().map(|m| m.counts()).unwrap_or_default();
    let mut downline_counts = BTreeMap::new();
    for l in 1..=max {
        downline_counts.insert(l.to_string(), counts[l as usize - 1]);
    }
    let expected: u64 = match levels {
        Levels::Exactly(l) => counts[l as usize - 1],
        Levels::UpTo(x) => counts[..x as usize].iter().sum(),
    };
    let (rows, next) = if expected == 0 {
        (Vec::new(), None)
    } else {
        let mut page = state
            .store
            .downline_page(&net, &prog, &user, levels, limit + 1, start)
            .await?;
        let more = page.edges.len() > limit as usize;
        page.edges.truncate(limit as usize);
        let next = if more {
            page.edges.last().map(|e| e.sk.clone())
        } else {
            page.last_sk
        };
        (page.edges, next)
    };
    let (referrer, upline) = match &member {
        Some(m) => (
            m.referrer.clone(),
            m.upline
                .iter()
                .take(max as usize)
                .enumerate()
                .map(|(i, u)| json!({"user": u, "level": i + 1}))
                .collect::<Vec<_>>(),
        ),
        None => (None, Vec::new()),
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "user": user.as_str(),
            "program_id": prog.as_str(),
            "referrer": referrer,
            "upline": upline,
            "downline": rows.iter().map(|e| json!({
                "user": e.user.as_str(),
                "level": e.level,
                "connected_at": e.connected_at,
            })).collect::<Vec<_>>(),
            "downline_counts": downline_counts,
            "next_cursor": next.map(|sk| encode_cursor(&scope, &sk)),
        }),
    ))
}
