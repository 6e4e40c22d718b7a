//! The Lambda function `create-payout`: `shared::api::create_payout`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::create_payout::HANDLER)
}
