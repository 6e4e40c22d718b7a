//! The Lambda function `list-webhook-deliveries`: `shared::api::webhooks::list_webhook_deliveries`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::list_webhook_deliveries::HANDLER)
}
