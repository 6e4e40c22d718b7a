//! The Lambda function `get-webhook`: `shared::api::webhooks::get_webhook`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::get_webhook::HANDLER)
}
