//! The Lambda function `upsert-program`: `shared::api::upsert_program`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::upsert_program::HANDLER)
}
