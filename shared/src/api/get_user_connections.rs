//! GET /networks/{network_id}/connections/{program_id}/users/{user}
//!
//! Round trips: one BatchGetItem (key, program, membership with its upline, the count shards),
//! then the downline page: one Query per edge shard, side by side, skipped when the user has
//! never had a referee. The upline and the downline are exact; the counts come from the
//! stream aggregator and say how fresh they are in `counts_as_of`.

use std::collections::BTreeMap;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{network, path_user, program_id, program_not_found};
use crate::domain::Level;
use crate::http::{decode_cursor, encode_cursor, json_response, limit, query_param, ApiError};
use crate::store::graph::downline::{Levels, ShardCursor};
use crate::store::keys;
use crate::{auth, clock, AppState};

const PATH: &str = crate::routes::path_of("get-user-connections");

crate::api::endpoint!(serve, retry_budget);

/// A cursor's positions, one per edge shard, each checked to be an edge of the listing.
fn parse_positions(text: &str, levels: Levels) -> Option<ShardCursor> {
    let v: ShardCursor = serde_json::from_str(text).ok()?;
    let ok = v.len() == crate::domain::shards::EDGE_SHARDS
        && v.iter().flatten().all(|sk| {
            sk.is_empty() || keys::parse_edge_sk(sk).is_some_and(|(l, _, _)| levels.contains(l))
        });
    ok.then_some(v)
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let user = path_user(state, &req, PATH)?;
    let level = match query_param(&req, "level") {
        None => None,
        Some(v) => Some(v.parse::<u8>().ok().and_then(Level::new).ok_or_else(|| {
            let max = Level::MAX.get();
            ApiError::bad_request("invalid_level", format!("level must be 1 to {max}"))
        })?),
    };
    let limit = limit(&req)?;
    let head = state.store.member_head(&net, &prog, &user, &probe).await?;
    head.auth.map_err(ApiError::from)?;
    let program = head.program.ok_or_else(|| program_not_found(&prog))?;
    let max = program.max_levels;
    if let Some(l) = level {
        if l > max {
            return Err(ApiError::bad_request(
                "invalid_level",
                format!("level must be 1 to {}, the program's max_levels", max.get()),
            ));
        }
    }
    let levels = match level {
        Some(l) => Levels::Exactly(l),
        None => Levels::UpTo(max),
    };
    let scope = format!("downline|{net}|{prog}|{user}|{levels:?}");
    let start = query_param(&req, "cursor")
        .map(|c| {
            let text = decode_cursor(&scope, c, |k| parse_positions(k, levels).is_some())?;
            parse_positions(&text, levels).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "cursor is invalid: pass next_cursor back unchanged",
                )
            })
        })
        .transpose()?;

    let member = head.member;
    let counts = head.counts;
    let downline_counts: BTreeMap<String, u64> = counts
        .levels
        .iter()
        .take(max.depth())
        .enumerate()
        .map(|(i, n)| ((i + 1).to_string(), *n))
        .collect();
    let has_downline = member.as_ref().is_some_and(|m| m.kids);
    let (rows, next) = if has_downline {
        let page = state
            .store
            .downline_page(&net, &prog, &user, levels, limit as usize, start)
            .await?;
        (page.edges, page.next)
    } else {
        (Vec::new(), None)
    };
    let (referrer, upline) = match &member {
        Some(m) => (
            m.referrer.clone(),
            m.upline
                .iter()
                .take(max.depth())
                .enumerate()
                .map(|(i, u)| json!({"user": u, "level": i + 1}))
                .collect::<Vec<_>>(),
        ),
        None => (None, Vec::new()),
    };
    // With no referee ever, the counts are settled by definition.
    let counts_as_of = match counts.as_of_ns {
        Some(ns) => Some(clock::rfc3339(ns)),
        None if !has_downline => Some(clock::now().rfc3339),
        None => None,
    };
    let next_cursor = next
        .map(|n| serde_json::to_string(&n).map(|t| encode_cursor(&scope, &t)))
        .transpose()
        .map_err(|_| crate::http::internal())?;
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
                "connected_at": e.connected_at(),
            })).collect::<Vec<_>>(),
            "downline_counts": downline_counts,
            "counts_as_of": counts_as_of,
            "next_cursor": next_cursor,
        }),
    ))
}
