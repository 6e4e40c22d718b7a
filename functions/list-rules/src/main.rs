//! The Lambda function `list-rules`: `shared::api::list_rules`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::list_rules::HANDLER)
}
