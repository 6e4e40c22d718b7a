//! The Lambda function `list-payout-lines`: `shared::api::list_payout_lines`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::list_payout_lines::HANDLER)
}
