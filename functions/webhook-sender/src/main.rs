//! The Lambda function `webhook-sender`: `shared::api::webhook_sender`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::webhook_sender::HANDLER)
}
