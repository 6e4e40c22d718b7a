//! The Lambda function `list-programs`: `shared::api::list_programs`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::list_programs::HANDLER)
}
