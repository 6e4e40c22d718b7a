//! The Lambda function `get-referral-info-for-referral-hash`: `shared::api::deso::get_referral_info_for_referral_hash`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::get_referral_info_for_referral_hash::HANDLER)
}
