use lambda_http::{run, service_fn, Error};
use shared::api::get_job::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::AppState::load().await?;
    run(service_fn(|req| handle(state, req))).await
}
