//! The Lambda function `remove-referrer`: `shared::api::remove_referrer`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::remove_referrer::HANDLER)
}
