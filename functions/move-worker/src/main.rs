//! The Lambda function `move-worker`: `shared::api::move_worker`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::move_worker::HANDLER)
}
