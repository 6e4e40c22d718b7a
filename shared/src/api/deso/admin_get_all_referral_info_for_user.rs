//! POST /api/v0/admin/get-all-referral-info-for-user
//!
//! A page of the user's codes (program, then code order), each with its referred users. Refnet
//! extensions, which DeSo's clients do not send: `Cursor` (from `NextCursor`) and `Limit`
//! (codes per page) page the codes; `ReferralHashBase58` with `Cursor` pages one code's
//! referred users. Without them a client gets the first page, and `NextCursor` when there is
//! more.
//!
//! Round trips: one Query of the user's codes index, BatchGetItems of their shards, then one
//! Query per referral partition of each code, `CODES_AT_ONCE` codes at a time.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    admin, hash, ok, page_cursor, page_limit, referral_info_response, user_key, AdminCred, Role,
};
use crate::domain::{Code, UserId};
use crate::http::{encode_cursor, json_body, ApiError};
use crate::AppState;

/// Codes per page, at most and by default.
pub const MAX_CODES: usize = 100;
/// Referred users listed per code in one answer; a code with more is paged on its own.
pub const MAX_REFERRED: usize = 1_000;
/// Codes whose referred users are read at once.
const CODES_AT_ONCE: usize = 8;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Query {
    #[serde(flatten)]
    cred: AdminCred,
    #[serde(rename = "UserPublicKeyBase58Check")]
    user: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Cursor")]
    cursor: String,
    #[serde(rename = "Limit")]
    limit: u64,
    #[serde(rename = "ReferralHashBase58")]
    referral_hash: String,
}

crate::api::endpoint!(serve_deso, retry_budget);

fn users_json(users: Vec<String>) -> Vec<Value> {
    users
        .into_iter()
        .map(|u| json!({"PublicKeyBase58Check": u}))
        .collect()
}

fn answer(list: Vec<Value>, next: Option<String>) -> Response<Body> {
    let mut body = Map::new();
    body.insert("ReferralInfoResponses".into(), Value::Array(list));
    if let Some(n) = next {
        body.insert("NextCursor".into(), Value::String(n));
    }
    ok(&Value::Object(body))
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Query = json_body(&req, false)?;
    admin(&state.config, &body.cred, Role::SuperAdmin)?;
    let cfg = &state.config;
    let net = &cfg.deso_network_id;
    let owner = UserId::Deso(user_key(
        cfg,
        "UserPublicKeyBase58Check",
        &body.user,
        &body.username,
    )?);
    let limit = page_limit(body.limit, MAX_CODES, "codes per page")?;

    if !body.referral_hash.is_empty() {
        // One code's referred users, page by page.
        let code = hash("ReferralHashBase58", &body.referral_hash)?;
        let found = state
            .store
            .get_code(net, &code)
            .await?
            .filter(|c| c.owner == owner)
            .ok_or_else(|| {
                ApiError::not_found("not_found", "no such referral hash for this user")
            })?;
        let scope = format!("deso-referred|{net}|{code}");
        let page = state
            .store
            .referred_users_page(
                &code,
                page_cursor(&scope, &body.cursor)?.as_deref(),
                MAX_REFERRED,
            )
            .await?;
        let next = page.next.map(|sk| encode_cursor(&scope, &sk));
        let list = vec![referral_info_response(&found, Some(users_json(page.items)))];
        return Ok(answer(list, next));
    }

    let scope = format!("deso-codes|{net}|{owner}");
    let page = state
        .store
        .user_codes_page(
            net,
            &owner,
            page_cursor(&scope, &body.cursor)?.as_deref(),
            limit,
        )
        .await?;
    let mut referred: Vec<(&Code, Vec<String>)> = Vec::with_capacity(page.items.len());
    let hashes: Vec<&Code> = page.items.iter().filter(|c| c.code.is_hash()).collect();
    for wave in hashes.chunks(CODES_AT_ONCE) {
        let reads = wave
            .iter()
            .map(|c| state.store.referred_users_page(&c.code, None, MAX_REFERRED));
        for (c, users) in wave.iter().zip(futures::future::try_join_all(reads).await?) {
            if users.next.is_some() {
                return Err(ApiError::bad_request(
                    "too_many_referred_users",
                    format!(
                        "referral hash {} has more than {MAX_REFERRED} referred users: list them page by page with {{\"ReferralHashBase58\": \"{}\"}} and then each NextCursor as \"Cursor\"",
                        c.code, c.code
                    ),
                ));
            }
            referred.push((c, users.items));
        }
    }
    let list = referred
        .into_iter()
        .map(|(c, users)| referral_info_response(c, Some(users_json(users))))
        .collect();
    Ok(answer(list, page.next.map(|sk| encode_cursor(&scope, &sk))))
}
