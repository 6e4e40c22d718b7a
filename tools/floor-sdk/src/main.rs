//! The init benchmark's SDK floor: the DynamoDB client from the SDK's default configuration,
//! built once, and one GetItem a request.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&conf);
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "refnet".into());
    let (client, table) = (&client, table.as_str());
    run(service_fn(move |_req: Request| async move {
        let key = AttributeValue::S("FLOOR".into());
        let found = client
            .get_item()
            .table_name(table)
            .key("PK", key.clone())
            .key("SK", key)
            .send()
            .await
            .is_ok();
        Response::builder()
            .status(if found { 200 } else { 503 })
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .map_err(Error::from)
    }))
    .await
}
