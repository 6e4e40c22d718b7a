//! The Lambda function `get-referral-info-for-user`: `shared::api::deso::get_referral_info_for_user`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::get_referral_info_for_user::HANDLER)
}
