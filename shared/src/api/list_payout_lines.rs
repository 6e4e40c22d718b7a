//! GET /networks/{network_id}/payouts/{payout_id}/lines
//!
//! Round trips: the key and the payout in one BatchGetItem, then a Query of its lines.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::get_payout::{payout_id, payout_not_found};
use super::network;
use crate::http::{
    decode_cursor, encode_cursor, json_response, limit, path_param, query_param, ApiError,
};
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("list-payout-lines");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let raw = path_param(&req, PATH, "payout_id")?;
    let id = payout_id(&raw)?;
    let limit = limit(&req)?;
    let scope = format!("lines|{net}|{id}");
    let after = query_param(&req, "cursor")
        .map(|c| decode_cursor(&scope, c, |k| !k.is_empty()))
        .transpose()?;
    state
        .store
        .get_payout(&net, &probe, id)
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(payout_not_found)?;
    let (lines, last) = state.store.payout_lines(&net, id, after, limit).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "lines": lines.iter().map(|l| json!({"user": l.user, "amount_usd_cents": l.paid, "rewards": l.rewards})).collect::<Vec<_>>(),
            "next_cursor": last.map(|sk| encode_cursor(&scope, &sk)),
        }),
    ))
}
