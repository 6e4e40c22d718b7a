//! The Lambda function `update-webhook`: `shared::api::webhooks::update_webhook`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::update_webhook::HANDLER)
}
