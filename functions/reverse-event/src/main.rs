//! The Lambda function `reverse-event`: `shared::api::reverse_event`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::reverse_event::HANDLER)
}
