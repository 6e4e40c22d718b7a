use lambda_http::lambda_runtime::{run, service_fn, Error};
use shared::api::move_worker::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::AppState::load().await?;
    run(service_fn(|event| handle(state, event))).await
}
