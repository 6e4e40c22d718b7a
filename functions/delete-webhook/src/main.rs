//! The Lambda function `delete-webhook`: `shared::api::webhooks::delete_webhook`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::delete_webhook::HANDLER)
}
