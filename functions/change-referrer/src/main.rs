//! The Lambda function `change-referrer`: `shared::api::change_referrer`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::change_referrer::HANDLER)
}
