//! The Lambda function `admin-update-jumio-country-sign-up-bonus`: `shared::api::deso::admin_update_jumio_country_sign_up_bonus`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_update_jumio_country_sign_up_bonus::HANDLER)
}
