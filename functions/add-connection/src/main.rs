//! The Lambda function `add-connection`: `shared::api::add_connection`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::add_connection::HANDLER)
}
