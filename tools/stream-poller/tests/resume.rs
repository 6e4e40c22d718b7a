//! The poller on DynamoDB Local (`AWS_ENDPOINT_URL_DYNAMODB`): a shard whose iterator is lost
//! resumes where it stood, and a record written before the loss is still delivered.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use stream_poller::Poller;

async fn table(conf: &aws_config::SdkConfig, name: &str) -> aws_sdk_dynamodb::Client {
    let ddb = aws_sdk_dynamodb::Client::new(conf);
    let key = |a: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(a)
            .key_type(t)
            .build()
            .unwrap()
    };
    let attr = |a: &str| {
        AttributeDefinition::builder()
            .attribute_name(a)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .attribute_definitions(attr("PK"))
        .attribute_definitions(attr("SK"))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("a table");
    ddb
}

async fn put(ddb: &aws_sdk_dynamodb::Client, name: &str, pk: &str) {
    ddb.put_item()
        .table_name(name)
        .item("PK", AttributeValue::S(pk.into()))
        .item("SK", AttributeValue::S("E".into()))
        .send()
        .await
        .expect("written");
}

/// The PKs of the records delivered to the aggregator over a few passes.
async fn delivered(p: &mut Poller) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..5 {
        match p.poll().await {
            Ok(ds) => {
                for d in ds {
                    for r in d.event["Records"].as_array().cloned().unwrap_or_default() {
                        out.push(
                            r["dynamodb"]["Keys"]["PK"]["S"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        );
                    }
                }
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    out
}

#[tokio::test]
async fn records_written_before_a_lost_iterator_are_delivered() {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        eprintln!("no DynamoDB Local: skipped");
        return;
    }
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let name = format!("poller-{}", std::process::id());
    let ddb = table(&conf, &name).await;
    let mut p = Poller::new(&conf, &name).await.expect("a poller");
    // Nothing read from the shard yet: no checkpoint. The iterator is lost with records behind
    // it; resuming from the shard's tip would skip them.
    put(&ddb, &name, "DOWN#n#p#a#0").await;
    p.lose_iterators();
    put(&ddb, &name, "DOWN#n#p#b#0").await;
    let got = delivered(&mut p).await;
    assert_eq!(got, ["DOWN#n#p#a#0", "DOWN#n#p#b#0"]);
    // With a checkpoint: the next records, once each.
    put(&ddb, &name, "DOWN#n#p#c#0").await;
    p.lose_iterators();
    put(&ddb, &name, "DOWN#n#p#d#0").await;
    let got = delivered(&mut p).await;
    assert_eq!(got, ["DOWN#n#p#c#0", "DOWN#n#p#d#0"]);
    let _ = ddb.delete_table().table_name(&name).send().await;
}
