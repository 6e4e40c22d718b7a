//! The Lambda function `console`: `shared::api::console`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::console::HANDLER)
}
