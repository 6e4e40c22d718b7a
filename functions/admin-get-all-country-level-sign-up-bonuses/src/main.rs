//! The Lambda function `admin-get-all-country-level-sign-up-bonuses`: `shared::api::deso::admin_get_all_country_level_sign_up_bonuses`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_get_all_country_level_sign_up_bonuses::HANDLER)
}
