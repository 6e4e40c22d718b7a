//! The Lambda function `put-rule`: `shared::api::put_rule`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::put_rule::HANDLER)
}
