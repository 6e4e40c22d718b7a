//! The Lambda function `get-user-rewards`: `shared::api::get_user_rewards`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_user_rewards::HANDLER)
}
