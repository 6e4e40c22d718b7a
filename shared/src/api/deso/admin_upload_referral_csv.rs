//! POST /api/v0/admin/upload-referral-csv (multipart/form-data: the admin's key as
//! UserPublicKeyBase58Check, as DeSo's frontend names it, or AdminPublicKey; JWT; file)
//!
//! The whole file is validated (header, every row, every hash and owner) before anything is
//! written; then it is written in transactions of whole rows.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{admin, ok, AdminCred, Role};
use crate::domain::referral_csv::{self, CsvRow};
use crate::domain::UserId;
use crate::http::{body_bytes_up_to, ApiError};
use crate::AppState;

/// An upload of 1,000 rows is well under this.
pub const MAX_UPLOAD: usize = 1024 * 1024;

crate::api::endpoint!(serve_deso, retry_budget);

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_upload", message)
}

struct Form {
    admin_public_key: Option<String>,
    jwt: Option<String>,
    file: Option<Vec<u8>>,
}

async fn read_form(req: &Request) -> Result<Form, ApiError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            bad("send multipart/form-data with UserPublicKeyBase58Check (the admin's key), JWT and file")
        })?;
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| bad("the Content-Type must be multipart/form-data with a boundary"))?;
    let body = bytes::Bytes::copy_from_slice(body_bytes_up_to(req, MAX_UPLOAD)?);
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut out = Form {
        admin_public_key: None,
        jwt: None,
        file: None,
    };
    let malformed = |e: multer::Error| bad(format!("the multipart body is malformed: {e}"));
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("UserPublicKeyBase58Check") | Some("AdminPublicKey") => {
                let key = field.text().await.map_err(malformed)?;
                if !key.trim().is_empty() || out.admin_public_key.is_none() {
                    out.admin_public_key = Some(key);
                }
            }
            Some("JWT") => out.jwt = Some(field.text().await.map_err(malformed)?),
            Some("file") => out.file = Some(field.bytes().await.map_err(malformed)?.to_vec()),
            _ => {}
        }
    }
    Ok(out)
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let form = read_form(&req).await?;
    let (Some(admin_public_key), Some(jwt)) = (form.admin_public_key, form.jwt) else {
        return Err(bad(
            "the form needs the admin's key (UserPublicKeyBase58Check, or AdminPublicKey) and JWT",
        ));
    };
    admin(
        &state.config,
        &AdminCred {
            admin_public_key,
            jwt,
        },
        Role::SuperAdmin,
    )?;
    let file = form
        .file
        .ok_or_else(|| bad("the form needs a file field with the CSV"))?;
    let text = String::from_utf8(file).map_err(|_| bad("the file is not UTF-8 text"))?;
    let rows = referral_csv::parse(&text, state.config.deso_key_network)
        .map_err(|e| bad(e.to_string()))?;

    let net = &state.config.deso_network_id;
    let prog = &state.config.deso_program_id;
    let hashes: Vec<_> = rows.iter().filter_map(|r| r.hash.clone()).collect();
    let new_owners: Vec<UserId> = rows
        .iter()
        .filter(|r| r.hash.is_none())
        .filter_map(|r| r.owner.clone().map(UserId::Deso))
        .collect();
    let (existing, banned) = state.store.csv_context(net, &hashes, &new_owners).await?;
    let mut plan: Vec<(CsvRow, UserId)> = Vec::with_capacity(rows.len());
    for r in rows {
        let owner = match &r.hash {
            Some(h) => {
                let code = existing
                    .get(h)
                    .ok_or_else(|| bad(format!("row {}: no referral hash {h}", r.row)))?;
                if let Some(o) = &r.owner {
                    if code.owner != o.as_str() {
                        return Err(bad(format!(
                            "row {}: the row would change the owner of {h}",
                            r.row
                        )));
                    }
                }
                crate::store::items::user_id(&code.owner)?
            }
            None => {
                let owner = r.owner.clone().map(UserId::Deso).ok_or_else(|| {
                    bad(format!(
                        "row {}: a new hash needs ReferrerPKIDBase58Check",
                        r.row
                    ))
                })?;
                if banned.get(&owner).copied().unwrap_or(false) {
                    return Err(bad(format!("row {}: {owner} is banned", r.row)));
                }
                owner
            }
        };
        plan.push((r, owner));
    }
    if plan.iter().any(|(r, _)| r.hash.is_none())
        && state.store.get_program(net, prog).await?.is_none()
    {
        return Err(ApiError::not_found(
            "program_not_found",
            format!("program {prog} (DESO_PROGRAM_ID) does not exist"),
        ));
    }
    // Drawn once per request: a retried batch stays idempotent, a new upload applies anew.
    let upload: [u8; 16] = crate::random::bytes().map_err(|_| crate::http::internal())?;
    let (created, updated) = state
        .store
        .apply_csv(net, prog, &plan, &existing, &upload)
        .await?;
    Ok(ok(
        &json!({ "LinksCreated": created, "LinksUpdated": updated }),
    ))
}
