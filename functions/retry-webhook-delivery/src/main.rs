//! The Lambda function `retry-webhook-delivery`: `shared::api::webhooks::retry_webhook_delivery`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::retry_webhook_delivery::HANDLER)
}
