//! The Lambda function `get-usd-cents-to-deso-reserve-exchange-rate`: `shared::api::deso::get_usd_cents_to_deso_reserve_exchange_rate`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::get_usd_cents_to_deso_reserve_exchange_rate::HANDLER)
}
