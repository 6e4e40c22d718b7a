//! Reads a table's DynamoDB stream and turns its records into the events Lambda's event
//! source mappings deliver: one batch per shard read, per consuming function, filtered by
//! the PK prefix that function's mapping filters on.

use std::collections::HashMap;

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::{json, Value};
use shared::routes::STREAM_FUNCTIONS;

pub mod deliver;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The local failure destination: a table item per given-up batch (`STREAMFAIL#<function>`),
/// where AWS puts a message on the mapping's SQS queue. `refnet-admin stream-failures` lists
/// them.
#[derive(Clone)]
pub struct Destination {
    ddb: aws_sdk_dynamodb::Client,
    table: String,
}

impl Destination {
    pub fn new(conf: &aws_config::SdkConfig, table: &str) -> Destination {
        Destination {
            ddb: aws_sdk_dynamodb::Client::new(conf),
            table: table.to_owned(),
        }
    }

    /// Records a given-up batch: its function, range, size and reason, and its records when
    /// they fit in an item.
    pub async fn give_up(&self, function: &str, g: &deliver::GivenUp) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::types::AttributeValue::{N, S};
        let seq = |r: Option<&Value>| {
            r.and_then(|r| r["dynamodb"]["SequenceNumber"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let (first, last) = (seq(g.records.first()), seq(g.records.last()));
        let (pk, sk) =
            shared::store::keys::stream_failure(function, shared::clock::now_ms(), &first);
        let records = serde_json::to_string(&g.records)?;
        let mut req = self
            .ddb
            .put_item()
            .table_name(&self.table)
            .item("PK", S(pk))
            .item("SK", S(sk))
            .item("function", S(function.to_owned()))
            .item("condition", S("RetryAttemptsExhausted".into()))
            .item("reason", S(g.reason.chars().take(2000).collect()))
            .item("attempts", N(g.attempts.to_string()))
            .item("batch_size", N(g.records.len().to_string()))
            .item("start_sequence_number", S(first))
            .item("end_sequence_number", S(last));
        if records.len() < 300_000 {
            req = req.item("records", S(records));
        }
        req.send().await?;
        eprintln!(
            "stream-poller: {function}: gave up {} record(s) after {} attempts: {}",
            g.records.len(),
            g.attempts,
            g.reason
        );
        Ok(())
    }
}

/// One batch for one function, in Lambda's DynamoDB stream event shape.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub function: &'static str,
    pub event: Value,
}

pub struct Poller {
    ddb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    table: String,
    arn: Option<String>,
    /// Open shards and where each stands; None once a shard is closed and read.
    shards: HashMap<String, Option<String>>,
    /// Per shard, the last record read: where reading resumes when an iterator is lost (the
    /// store restarted), as an event source mapping resumes from its checkpoint.
    checkpoints: HashMap<String, String>,
    /// A test switch: records whose keys contain this are read and never delivered, as if
    /// the stream had lost them.
    drop_matching: Option<String>,
    /// Records dropped by the switch so far.
    pub dropped: u64,
}

impl Poller {
    /// A poller starting at the stream's tip: records written from now on are delivered.
    pub async fn new(conf: &aws_config::SdkConfig, table: &str) -> Result<Poller, BoxError> {
        Self::starting(conf, table, ShardIteratorType::Latest).await
    }

    /// A poller reading every record the stream still holds.
    pub async fn from_start(conf: &aws_config::SdkConfig, table: &str) -> Result<Poller, BoxError> {
        Self::starting(conf, table, ShardIteratorType::TrimHorizon).await
    }

    async fn starting(
        conf: &aws_config::SdkConfig,
        table: &str,
        kind: ShardIteratorType,
    ) -> Result<Poller, BoxError> {
        // DynamoDB Local serves its streams on its own endpoint.
        let mut streams = aws_sdk_dynamodbstreams::config::Builder::from(conf);
        if std::env::var("AWS_ENDPOINT_URL_DYNAMODB_STREAMS").is_err() {
            if let Ok(e) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
                streams = streams.endpoint_url(e);
            }
        }
        let mut p = Poller {
            ddb: aws_sdk_dynamodb::Client::new(conf),
            streams: aws_sdk_dynamodbstreams::Client::from_conf(streams.build()),
            table: table.to_owned(),
            arn: None,
            shards: HashMap::new(),
            checkpoints: HashMap::new(),
            drop_matching: None,
            dropped: 0,
        };
        p.refresh(kind).await?;
        Ok(p)
    }

    /// Every shard's iterator made unusable, as a store restart leaves them: the next pass must
    /// resume each shard where it stood.
    pub fn lose_iterators(&mut self) {
        for it in self.shards.values_mut().flatten() {
            *it = "lost".into();
        }
    }

    /// From now on, records whose keys contain `pattern` are never delivered (None: all are).
    pub fn drop_matching(&mut self, pattern: Option<String>) {
        self.drop_matching = pattern.filter(|p| !p.is_empty());
    }

    /// Picks up shards that appeared, from their start.
    async fn refresh(&mut self, kind: ShardIteratorType) -> Result<(), BoxError> {
        if self.arn.is_none() {
            let t = self
                .ddb
                .describe_table()
                .table_name(&self.table)
                .send()
                .await?;
            self.arn = t
                .table()
                .and_then(|t| t.latest_stream_arn())
                .map(str::to_owned);
        }
        let Some(arn) = self.arn.clone() else {
            return Err(format!("table {} has no stream", self.table).into());
        };
        let d = self
            .streams
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await?;
        for shard in d
            .stream_description()
            .map(|s| s.shards())
            .unwrap_or_default()
        {
            let Some(id) = shard.shard_id() else { continue };
            if self.shards.contains_key(id) {
                continue;
            }
            let it = self
                .streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(id)
                .shard_iterator_type(kind.clone())
                .send()
                .await?;
            self.shards
                .insert(id.to_owned(), it.shard_iterator().map(str::to_owned));
        }
        Ok(())
    }

    /// One pass over every shard: what each function is to be delivered. A shard that cannot
    /// be read is resumed from its checkpoint and read again next pass; what the other shards
    /// gave in this pass is delivered all the same.
    pub async fn poll(&mut self) -> Result<Vec<Delivery>, BoxError> {
        self.refresh(ShardIteratorType::TrimHorizon).await?;
        let arn = self.arn.clone().unwrap_or_default();
        let mut out = Vec::new();
        let ids: Vec<String> = self.shards.keys().cloned().collect();
        // A shard that cannot be read is no quiet stream: with nothing else to deliver, the
        // poll fails, so whoever waits for a drained stream keeps waiting.
        let mut failed: Option<String> = None;
        for id in ids {
            let Some(Some(it)) = self.shards.get(&id).cloned() else {
                continue;
            };
            let got = match self
                .streams
                .get_records()
                .shard_iterator(it)
                .limit(1000)
                .send()
                .await
            {
                Ok(got) => got,
                Err(e) => {
                    eprintln!("stream-poller: shard {id}: {e}; resuming after its checkpoint");
                    if let Err(e) = self.resume(&arn, &id).await {
                        eprintln!("stream-poller: shard {id}: {e}");
                    }
                    failed = Some(format!("shard {id}: {e}"));
                    continue;
                }
            };
            let records = got.records();
            let mut converted = Vec::with_capacity(records.len());
            for r in records {
                let record = lambda_record(r, &arn)?;
                if let Some(p) = &self.drop_matching {
                    if record["dynamodb"]["Keys"].to_string().contains(p.as_str()) {
                        self.dropped += 1;
                        continue;
                    }
                }
                converted.push((pk(r).map(str::to_owned), record));
            }
            // Only once the records are in hand does the shard move on.
            self.shards
                .insert(id.clone(), got.next_shard_iterator().map(str::to_owned));
            if let Some(seq) = records.last().and_then(|r| r.dynamodb()?.sequence_number()) {
                self.checkpoints.insert(id.clone(), seq.to_owned());
            }
            for (function, prefix) in STREAM_FUNCTIONS {
                let batch: Vec<Value> = converted
                    .iter()
                    .filter(|(pk, _)| {
                        pk.as_deref()
                            .is_some_and(|pk| prefix.iter().any(|p| pk.starts_with(p.as_str())))
                    })
                    .map(|(_, v)| v.clone())
                    .collect();
                if !batch.is_empty() {
                    out.push(Delivery {
                        function,
                        event: json!({ "Records": batch }),
                    });
                }
            }
        }
        match failed {
            Some(f) if out.is_empty() => Err(f.into()),
            _ => Ok(out),
        }
    }
}

impl Poller {
    /// A fresh iterator for shard `id`, after its checkpoint (from the tip without one).
    async fn resume(&mut self, arn: &str, id: &str) -> Result<(), BoxError> {
        let req = self
            .streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(id);
        // Nothing read from the shard yet: from its start, so no record written meanwhile is
        // skipped.
        let req = match self.checkpoints.get(id) {
            Some(seq) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq),
            None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let it = req.send().await?;
        self.shards
            .insert(id.to_owned(), it.shard_iterator().map(str::to_owned));
        Ok(())
    }
}

fn pk(r: &Record) -> Option<&str> {
    match r.dynamodb()?.keys()?.get("PK")? {
        aws_sdk_dynamodbstreams::types::AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

/// A stream record as Lambda's event source mapping hands it to a function.
fn lambda_record(r: &Record, arn: &str) -> Result<Value, BoxError> {
    let s = r.dynamodb().ok_or("record without its change")?;
    let image = |m: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        let item: serde_dynamo::Item = m.cloned().unwrap_or_default().into();
        serde_json::to_value(item)
    };
    let at = s
        .approximate_creation_date_time()
        .map(|t| t.as_secs_f64())
        .unwrap_or(0.0);
    Ok(json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": r.aws_region(),
        "eventSourceARN": arn,
        "dynamodb": {
            "ApproximateCreationDateTime": at,
            "Keys": image(s.keys())?,
            "NewImage": image(s.new_image())?,
            "OldImage": image(s.old_image())?,
            "SequenceNumber": s.sequence_number(),
            "SizeBytes": s.size_bytes(),
            "StreamViewType": s.stream_view_type().map(|v| v.as_str()),
        }
    }))
}
