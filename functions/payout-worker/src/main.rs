//! The Lambda function `payout-worker`: `shared::api::payout_worker`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::payout_worker::HANDLER)
}
