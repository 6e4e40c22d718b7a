//! The Lambda function `admin-create-referral-hash`: `shared::api::deso::admin_create_referral_hash`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_create_referral_hash::HANDLER)
}
