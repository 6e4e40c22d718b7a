//! The Lambda function `admin-jumio-callback`: `shared::api::deso::admin_jumio_callback`.
fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::main(shared::api::deso::admin_jumio_callback::HANDLER)
}
