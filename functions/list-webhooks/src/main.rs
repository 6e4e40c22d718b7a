//! The Lambda function `list-webhooks`: `shared::api::webhooks::list_webhooks`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhooks::list_webhooks::HANDLER)
}
