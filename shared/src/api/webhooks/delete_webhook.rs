//! DELETE /networks/{network_id}/webhooks/{webhook_id}
//!
//! Round trips: the key's GetItem, then one transaction (the webhook, its secret, the count).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::{not_found, webhook_id};
use crate::api::network;
use crate::http::ApiError;
use crate::{auth, AppState};

const PATH: &str = crate::routes::path_of("delete-webhook");

crate::api::endpoint!(serve, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let probe = auth::probe(&req)?;
    let net = network(&req, PATH)?;
    let id = webhook_id(&req, PATH)?;
    if !state
        .store
        .delete_webhook(&net, &probe, &id)
        .await?
        .map_err(ApiError::from)?
    {
        return Err(not_found());
    }
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(|_| crate::http::internal())
}
