//! The init benchmark's SDK floor: the DynamoDB client from the SDK's default configuration,
//! built once, and one GetItem a request.
//!
//! `FLOOR_STAGE` stops the init part-way, so the benchmark can price each part:
//! - `linked`: the SDK is in the binary but nothing of it runs at init (a request answers
//!   without a call);
//! - `env`: the client from the environment alone (region, credentials, endpoint), no default
//!   chain;
//! - `env-warm`: `env`, then one DescribeEndpoints at init, which opens the connection;
//! - unset: the default chain (`aws_config::load_defaults`), the floor itself.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use lambda_http::{run, service_fn, Body, Error, Request, Response};

fn env_client() -> Result<Client, Error> {
    let var = |k: &str| std::env::var(k).map_err(|_| Error::from(format!("{k} is not set")));
    let mut b = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(var("AWS_REGION")?))
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    if let Ok(url) = var("AWS_ENDPOINT_URL_DYNAMODB") {
        b = b.endpoint_url(url);
    }
    Ok(Client::from_conf(b.build()))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let stage = std::env::var("FLOOR_STAGE").unwrap_or_default();
    let client = match stage.as_str() {
        "linked" => None,
        "env" => Some(env_client()?),
        "env-warm" => {
            let client = env_client()?;
            // Any answer, even an error, leaves the connection open.
            let _ = client.describe_endpoints().send().await;
            Some(client)
        }
        _ => Some(Client::new(
            &aws_config::load_defaults(BehaviorVersion::latest()).await,
        )),
    };
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "refnet".into());
    let (client, table) = (&client, table.as_str());
    run(service_fn(move |_req: Request| async move {
        let found = match client {
            None => true,
            Some(client) => {
                let key = AttributeValue::S("FLOOR".into());
                client
                    .get_item()
                    .table_name(table)
                    .key("PK", key.clone())
                    .key("SK", key)
                    .send()
                    .await
                    .is_ok()
            }
        };
        Response::builder()
            .status(if found { 200 } else { 503 })
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .map_err(Error::from)
    }))
    .await
}
