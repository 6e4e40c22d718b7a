//! GET /networks/{network_id}/jobs/{job_id}
//!
//! Round trips: the key's GetItem and the job's, side by side.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{job_json, network};
use crate::http::{json_response, path_param, ApiError};
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("get-job");

crate::api::endpoint!(serve, retry_budget);

fn job_id(raw: &str) -> Result<&str, ApiError> {
    let ok = (8..=32).contains(&raw.len()) && bs58::decode(raw).into_vec().is_ok();
    ok.then_some(raw).ok_or_else(|| {
        ApiError::bad_request("invalid_job_id", "job_id is a job's id, as a 202 gave it")
    })
}

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let raw = path_param(&req, PATH, "job_id")?;
    let id = job_id(&raw)?;
    let (auth, job) = tokio::join!(
        state.store.authenticate(&probe, &net),
        state.store.get_job(&net, id)
    );
    auth?.map_err(ApiError::from)?;
    let job =
        job?.ok_or_else(|| ApiError::not_found("job_not_found", "no such job in this network"))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "job": job_json(&job.view()) }),
    ))
}
