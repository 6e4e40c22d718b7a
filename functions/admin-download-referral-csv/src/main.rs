//! The Lambda function `admin-download-referral-csv`: `shared::api::deso::admin_download_referral_csv`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_download_referral_csv::HANDLER)
}
