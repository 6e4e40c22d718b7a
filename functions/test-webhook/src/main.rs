//! The Lambda function `test-webhook`: `shared::api::webhooks::test_webhook`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::test_webhook::HANDLER)
}
