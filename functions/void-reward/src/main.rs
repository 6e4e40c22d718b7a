//! The Lambda function `void-reward`: `shared::api::void_reward`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::void_reward::HANDLER)
}
