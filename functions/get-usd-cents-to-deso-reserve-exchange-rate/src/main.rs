use lambda_http::{run, service_fn, Error};
use shared::api::deso::get_usd_cents_to_deso_reserve_exchange_rate::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::AppState::load().await?;
    run(service_fn(|req| handle(state, req))).await
}
