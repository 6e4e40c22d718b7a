//! The Lambda function `get-user-connections`: `shared::api::get_user_connections`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_user_connections::HANDLER)
}
