//! The Lambda function `derive-rewards`: `shared::api::derive_rewards`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::derive_rewards::HANDLER)
}
