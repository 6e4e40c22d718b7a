//! The Lambda function `get-payout`: `shared::api::get_payout`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_payout::HANDLER)
}
