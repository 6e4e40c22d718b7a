//! The Lambda function `admin-upload-referral-csv`: `shared::api::deso::admin_upload_referral_csv`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_upload_referral_csv::HANDLER)
}
