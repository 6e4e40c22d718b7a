//! stream-poller: the local stand-in for Lambda's stream event source mappings. Delivers the
//! table's stream to the aggregator and the move worker through `cargo lambda watch`'s Invoke
//! API, each function's batches in order, under the mapping's contract (`deliver`): retries,
//! bisecting, partial batch failures, and the failure destination (a table item).
//!
//!   stream-poller <invoke base URL, e.g. http://127.0.0.1:9000>   (TABLE_NAME, AWS_* as usual)
//!
//!   stream-poller --dump    every record the stream holds, one JSON line each, then exits
//!
//! It also runs the scheduled functions as EventBridge does on AWS: the repair every
//! `SCHEDULE_EVERY_SECS` (900), and the webhook sender at once and again as each run ends
//! (each sweeps for `WEBHOOK_SWEEP_SECS`).
//!
//! `STREAM_POLLER_DROP=<text>` drops every record whose keys contain the text, as a lost
//! record: the repair's test switch.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use stream_poller::deliver::{deliver, Answer, Mapping};
use stream_poller::{BoxError, Delivery, Destination, Poller};
use tokio::sync::mpsc;

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn invoke(
    http: &Http,
    base: &str,
    function: &str,
    event: &serde_json::Value,
) -> Result<serde_json::Value, BoxError> {
    let uri = format!("{base}/2015-03-31/functions/{function}/invocations");
    let req = hyper::Request::post(uri)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(event.to_string())))?;
    let resp = http.request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("{status} {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(serde_json::from_slice(&body)?)
}

/// The function's answer as the mapping reads it. cargo lambda reports a function error in
/// the body of a 200; an answer the emulator lost is an error too, and the batch comes again
/// (the consumers apply a record once, however often it comes).
async fn answer(http: &Http, base: &str, function: &str, event: serde_json::Value) -> Answer {
    match invoke(http, base, function, &event).await {
        Ok(body) => Answer::of_response(&body),
        Err(e) => Answer::Error(e.to_string()),
    }
}

/// Prints every record the stream holds (as the aggregator would get them), for forensics.
async fn dump(conf: &aws_config::SdkConfig, table: &str) -> Result<(), BoxError> {
    let mut poller = Poller::from_start(conf, table).await?;
    let mut quiet = 0;
    while quiet < 3 {
        let got = poller.poll().await?;
        if got.is_empty() {
            quiet += 1;
            continue;
        }
        quiet = 0;
        for d in got {
            for r in d.event["Records"].as_array().cloned().unwrap_or_default() {
                println!(
                    "{}",
                    serde_json::json!({ "function": d.function, "record": r })
                );
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let base = std::env::args()
        .nth(1)
        .ok_or("usage: stream-poller <invoke base URL> | --dump")?;
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "refnet".into());
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    if base == "--dump" {
        return dump(&conf, &table).await;
    }
    let mut poller = Poller::new(&conf, &table).await?;
    poller.drop_matching(std::env::var("STREAM_POLLER_DROP").ok());
    let destination = Destination::new(&conf, &table);
    let mapping = Mapping::from_template();
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    // One queue per function: a long move does not hold back the counts.
    let mut queues = std::collections::HashMap::new();
    for (function, _) in shared::routes::STREAM_FUNCTIONS {
        let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
        let (http, base, destination) = (http.clone(), base.clone(), destination.clone());
        tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                let records = d.event["Records"].as_array().cloned().unwrap_or_default();
                let given_up = deliver(mapping, records, |ev| {
                    let (http, base) = (&http, &base);
                    async move {
                        let a = answer(http, base, function, ev).await;
                        if a != Answer::Applied(Vec::new()) {
                            eprintln!("stream-poller: {function}: {a:?}; the mapping retries");
                        }
                        a
                    }
                })
                .await;
                for g in given_up {
                    while let Err(e) = destination.give_up(function, &g).await {
                        eprintln!("stream-poller: failure destination: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        queues.insert(function, tx);
    }
    let every: u64 = std::env::var("SCHEDULE_EVERY_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(900);
    for (function, _) in shared::routes::SCHEDULED_FUNCTIONS {
        let (http, base) = (http.clone(), base.clone());
        let event = || {
            serde_json::json!({
                "version": "0", "id": "local", "detail-type": "Scheduled Event",
                "source": "aws.events", "time": shared::clock::now().rfc3339,
                "resources": [], "detail": {}
            })
        };
        if function == "webhook-sender" {
            // Each run sweeps for WEBHOOK_SWEEP_SECS; the next starts as it ends (a second
            // after a failed start), so the local stack always delivers.
            tokio::spawn(async move {
                loop {
                    match invoke(&http, &base, function, &event()).await {
                        Ok(out) => eprintln!("stream-poller: {function}: {out}"),
                        Err(e) => {
                            eprintln!("stream-poller: {function}: {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
            continue;
        }
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(every)).await;
                match invoke(&http, &base, function, &event()).await {
                    Ok(out) => eprintln!("stream-poller: {function}: {out}"),
                    Err(e) => eprintln!("stream-poller: {function}: {e}"),
                }
            }
        });
    }
    eprintln!("stream-poller: delivering {table}'s stream to {base}; the schedule every {every} s");
    loop {
        match poller.poll().await {
            Ok(batch) if batch.is_empty() => tokio::time::sleep(Duration::from_millis(200)).await,
            Ok(batch) => {
                for d in batch {
                    if let Some(q) = queues.get(d.function) {
                        let _ = q.send(d);
                    }
                }
            }
            Err(e) => {
                eprintln!("stream-poller: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
