//! POST /networks/{network_id}/payouts
//!
//! Round trips: the key (and the program) in one BatchGetItem, the network's programs when
//! none is named, then one transaction: the network's payout lock and the payout. The payout
//! worker does the rest.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::network;
use super::payouts_json::payout_json;
use crate::domain::reward::MAX_EVENT_AMOUNT;
use crate::domain::ProgramId;
use crate::http::{json_body, json_response, ApiError};
use crate::store::rewards::payouts::Created;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("create-payout");

crate::api::endpoint!(serve, retry_budget);

#[derive(Deserialize, Default)]
struct PayoutBody {
    program_id: Option<String>,
    min_amount_usd_cents: Option<i64>,
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let body: PayoutBody = json_body(&req, true)?;
    let program = body
        .program_id
        .as_deref()
        .map(|p| {
            ProgramId::try_from(p).map_err(|_| {
                ApiError::bad_request("invalid_program_id", "program_id is not a program id")
            })
        })
        .transpose()?;
    let min = match body.min_amount_usd_cents {
        None => 1,
        Some(m) if (1..=MAX_EVENT_AMOUNT).contains(&m) => m,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_amount",
                format!("min_amount_usd_cents must be 1 to {MAX_EVENT_AMOUNT}"),
            ))
        }
    };
    match state
        .store
        .create_payout(&net, &probe, program.as_ref(), min)
        .await?
    {
        Created::Auth(f) => Err(f.into()),
        Created::ProgramNotFound => match &program {
            Some(p) => Err(super::program_not_found(p)),
            None => Err(crate::http::internal()),
        },
        Created::Running => Err(ApiError::conflict(
            "payout_running",
            "a payout of this network is running; retry when it is done",
        )),
        Created::Started(p) => {
            let mut resp =
                json_response(StatusCode::ACCEPTED, &json!({ "payout": payout_json(&p) }));
            if let Ok(v) =
                HeaderValue::from_str(&format!("/networks/{net}/payouts/{}", p.payout_id))
            {
                resp.headers_mut().insert("location", v);
            }
            Ok(resp)
        }
    }
}
