//! The Lambda function `post-event`: `shared::api::post_event`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::post_event::HANDLER)
}
