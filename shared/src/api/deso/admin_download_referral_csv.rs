//! POST /api/v0/admin/download-referral-csv
//!
//! Round trips: one Query of the network's code index, then BatchGetItems of the codes and
//! their shards, 100 keys each, side by side.

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, AdminCred, Role};
use crate::domain::referral_csv::{safe_cell, HEADER};
use crate::domain::Code;
use crate::http::{json_body, serve_deso, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Download {
    #[serde(flatten)]
    cred: AdminCred,
}

pub async fn handle(state: &AppState, req: Request) -> Result<Response<Body>, Error> {
    serve_deso(req, |req| run(state, req)).await
}

/// One CSV row of a code, in HEADER's order. Refnet keeps no usernames.
pub fn csv_row(c: &Code) -> Vec<String> {
    let cells = vec![
        c.code.as_str().to_owned(),
        String::new(),
        c.owner
            .deso_key()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        c.config.referrer_amount_usd_cents.get().to_string(),
        c.config.referee_amount_usd_cents.get().to_string(),
        c.config.max_referrals.to_string(),
        c.config.requires_jumio.to_string(),
        c.totals.num_jumio_attempts.to_string(),
        c.totals.num_jumio_successes.to_string(),
        c.totals.total_referrer_deso_nanos.to_string(),
        c.totals.total_referee_deso_nanos.to_string(),
        c.created_ns.to_string(),
        c.active.to_string(),
    ];
    cells.into_iter().map(safe_cell).collect()
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Download = json_body(&req, true)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let items = state
        .store
        .network_code_items(&state.config.deso_network_id)
        .await?;
    let codes = state.store.with_totals(items).await?;
    let mut rows = vec![HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    rows.extend(codes.iter().map(csv_row));
    Ok(ok(&json!({ "CSVRows": rows })))
}
