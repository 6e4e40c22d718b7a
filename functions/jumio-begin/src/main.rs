//! The Lambda function `jumio-begin`: `shared::api::deso::jumio_begin`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::jumio_begin::HANDLER)
}
