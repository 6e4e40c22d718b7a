//! GET /networks/{network_id}/connections

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{network, program_json};
use crate::http::{decode_cursor, encode_cursor, json_response, limit, query_param, ApiError};
use crate::store::keys::PROGRAM_PREFIX;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("list-programs");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let limit = limit(&req)?;
    let scope = format!("programs|{net}");
    let start = query_param(&req, "cursor")
        .map(|c| decode_cursor(&scope, c, |sk| sk.starts_with(PROGRAM_PREFIX)))
        .transpose()?;
    // The key check and the page are independent reads: run them side by side.
    let (auth, page) = tokio::join!(
        state.store.authenticate(&probe, &net),
        state.store.list_programs(&net, limit + 1, start)
    );
    auth?.map_err(ApiError::from)?;
    let mut page = page?;
    let more = page.programs.len() > limit as usize;
    page.programs.truncate(limit as usize);
    let next = if more {
        page.programs
            .last()
            .map(|p| format!("{PROGRAM_PREFIX}{}", p.id))
    } else {
        page.last_sk
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "programs": page.programs.iter().map(program_json).collect::<Vec<_>>(),
            "next_cursor": next.map(|sk| encode_cursor(&scope, &sk)),
        }),
    ))
}
