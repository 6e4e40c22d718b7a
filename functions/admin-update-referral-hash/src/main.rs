//! The Lambda function `admin-update-referral-hash`: `shared::api::deso::admin_update_referral_hash`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_update_referral_hash::HANDLER)
}
