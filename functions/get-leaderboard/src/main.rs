//! The Lambda function `get-leaderboard`: `shared::api::get_leaderboard`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_leaderboard::HANDLER)
}
