//! The Lambda function `webhook-fanout`: `shared::api::webhook_fanout`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhook_fanout::HANDLER)
}
