//! The Lambda function `get-connection-codes`: `shared::api::get_connection_codes`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_connection_codes::HANDLER)
}
