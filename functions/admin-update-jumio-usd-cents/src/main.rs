//! The Lambda function `admin-update-jumio-usd-cents`: `shared::api::deso::admin_update_jumio_usd_cents`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_update_jumio_usd_cents::HANDLER)
}
