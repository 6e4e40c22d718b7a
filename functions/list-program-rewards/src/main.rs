//! The Lambda function `list-program-rewards`: `shared::api::list_program_rewards`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::list_program_rewards::HANDLER)
}
