//! The Lambda function `replay-webhook`: `shared::api::webhooks::replay_webhook`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::replay_webhook::HANDLER)
}
