//! The Lambda function `get-job`: `shared::api::get_job`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::get_job::HANDLER)
}
