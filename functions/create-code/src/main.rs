//! The Lambda function `create-code`: `shared::api::create_code`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::create_code::HANDLER)
}
