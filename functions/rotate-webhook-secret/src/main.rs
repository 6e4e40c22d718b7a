//! The Lambda function `rotate-webhook-secret`: `shared::api::webhooks::rotate_webhook_secret`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::rotate_webhook_secret::HANDLER)
}
