//! The Lambda function `admin-set-usd-cents-to-deso-reserve-exchange-rate`: `shared::api::deso::admin_set_usd_cents_to_deso_reserve_exchange_rate`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(
        shared::api::deso::admin_set_usd_cents_to_deso_reserve_exchange_rate::HANDLER,
    )
}
