//! The Lambda function `approve-reward`: `shared::api::approve_reward`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::approve_reward::HANDLER)
}
