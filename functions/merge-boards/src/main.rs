//! The Lambda function `merge-boards`: `shared::api::merge_boards`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::merge_boards::HANDLER)
}
