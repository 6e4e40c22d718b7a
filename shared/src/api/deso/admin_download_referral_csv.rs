//! POST /api/v0/admin/download-referral-csv
//!
//! The network's codes, oldest first, up to `MAX_ROWS` rows (or `Limit`) or `MAX_BYTES` of
//! answer; when it is cut there, `NextCursor` says where the next download starts. `Cursor`,
//! `Limit` and `NextCursor` are Refnet extensions: DeSo's clients send neither and get the
//! first part.
//!
//! Round trips per `PAGE` codes: one Query of the network's code index, then BatchGetItems of
//! the codes and their shards, 100 keys each, a few at a time.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{admin, ok, page_cursor, page_limit, AdminCred, Role};
use crate::domain::referral_csv::{safe_cell, HEADER};
use crate::domain::Code;
use crate::http::{encode_cursor, json_body, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Download {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "Cursor")]
    cursor: String,
    #[serde(rename = "Limit")]
    limit: u64,
}

/// Rows of one answer: well inside Lambda's 6 MB response and API Gateway's 29 s.
pub const MAX_ROWS: usize = 5_000;
/// Bytes of CSV cells in one answer.
pub const MAX_BYTES: usize = 4 << 20;
/// Codes read per round.
const PAGE: usize = 500;

crate::api::endpoint!(serve_deso, retry_budget);

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
    let net = &state.config.deso_network_id;
    let max_rows = page_limit(body.limit, MAX_ROWS, "rows per download")?;
    let scope = format!("deso-csv|{net}");
    let mut after = page_cursor(&scope, &body.cursor)?;
    let mut rows = vec![HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    let mut bytes = 0usize;
    let next = loop {
        let room = max_rows + 1 - rows.len();
        let page = state
            .store
            .network_codes_page(net, after.as_deref(), room.min(PAGE))
            .await?;
        // the DeSo routes read referral hashes only
        for c in page.items.iter().filter(|c| c.code.is_hash()) {
            let row = csv_row(c);
            bytes += row.iter().map(|cell| cell.len() + 3).sum::<usize>();
            rows.push(row);
        }
        match page.next {
            Some(sk) if rows.len() > max_rows || bytes > MAX_BYTES => break Some(sk),
            Some(sk) => after = Some(sk),
            None => break None,
        }
    };
    let mut answer = json!({ "CSVRows": rows });
    if let Some(sk) = next {
        answer["NextCursor"] = json!(encode_cursor(&scope, &sk));
    }
    Ok(ok(&answer))
}
