//! The Lambda function `repair`: `shared::api::repair`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::repair::HANDLER)
}
