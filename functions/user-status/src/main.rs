//! The Lambda function `user-status`: `shared::api::user_status`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::user_status::HANDLER)
}
