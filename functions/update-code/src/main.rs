//! The Lambda function `update-code`: `shared::api::update_code`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::update_code::HANDLER)
}
