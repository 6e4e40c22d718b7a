//! GET /networks/{network_id}/connections/{program_id}/leaderboard
//!
//! Round trips: one BatchGetItem of the key, the program and the leaderboard's item, which
//! holds its whole top list: every page is that one read. The list is ranked at read time,
//! so held reward cents count from their hour on.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{network, program_id, program_not_found};
use crate::domain::leaderboard::{rank_at, By, Period, TOP};
use crate::http::{
    decode_cursor, encode_cursor, json_response, limit_within, query_param, ApiError,
};
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("get-leaderboard");
const MAX_LIMIT: usize = 1_000;
const DEFAULT_LIMIT: usize = 100;

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let prog = program_id(&req, PATH)?;
    let period = match query_param(&req, "period") {
        None => Period::All,
        Some(p) => Period::parse(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_period",
                "period must be all or a month YYYY-MM (UTC)",
            )
        })?,
    };
    let by = match query_param(&req, "by") {
        None => By::Referrals,
        Some(b) => By::parse(b).ok_or_else(|| {
            ApiError::bad_request("invalid_by", "by must be referrals or rewards")
        })?,
    };
    let limit = limit_within(&req, MAX_LIMIT, DEFAULT_LIMIT)?;
    let scope = format!("leaderboard|{net}|{prog}|{}|{period}", by.as_str());
    let from = match query_param(&req, "cursor") {
        None => 0,
        Some(c) => decode_cursor(&scope, c, |k| k.parse::<usize>().is_ok())?
            .parse::<usize>()
            .unwrap_or(0),
    };
    let head = state
        .store
        .board_head(&probe, &net, &prog, by, period)
        .await?;
    head.auth.map_err(ApiError::from)?;
    if head.program.is_none() {
        return Err(program_not_found(&prog));
    }
    // held reward cents whose hour has come count now, with no write
    let ranked = rank_at(&head.board.entries, crate::clock::now().ns);
    let shown = ranked.len().min(TOP);
    let page: Vec<_> = ranked
        .iter()
        .take(shown)
        .skip(from)
        .take(limit)
        .map(|r| json!({"rank": r.rank, "user": r.user, "value": r.value}))
        .collect();
    let next = (from + limit < shown).then(|| encode_cursor(&scope, &(from + limit).to_string()));
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "period": period.to_string(),
            "by": by.as_str(),
            "as_of": head.board.as_of_ns.map(crate::clock::rfc3339),
            "entries": page,
            "next_cursor": next,
        }),
    ))
}
