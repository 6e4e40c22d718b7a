//! The Lambda function `create-webhook`: `shared::api::webhooks::create_webhook`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::create_webhook::HANDLER)
}
