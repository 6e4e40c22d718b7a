//! The Lambda function `admin-get-all-referral-info-for-user`: `shared::api::deso::admin_get_all_referral_info_for_user`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_get_all_referral_info_for_user::HANDLER)
}
