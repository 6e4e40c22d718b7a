//! The Lambda function `aggregate-counts`: `shared::api::aggregate_counts`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::aggregate_counts::HANDLER)
}
