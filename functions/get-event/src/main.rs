//! The Lambda function `get-event`: `shared::api::get_event`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_event::HANDLER)
}
