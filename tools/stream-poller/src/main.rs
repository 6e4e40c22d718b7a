//! stream-poller: the local stand-in for Lambda's stream event source mappings. Delivers the
//! table's stream to the aggregator and the move worker through `cargo lambda watch`'s Invoke
//! API, each function's batches in order, a failed batch again until it succeeds.
//!
//!   stream-poller <invoke base URL, e.g. http://127.0.0.1:9000>   (TABLE_NAME, AWS_* as usual)

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use stream_poller::{BoxError, Delivery, Poller};
use tokio::sync::mpsc;

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn invoke(http: &Http, base: &str, d: &Delivery) -> Result<(), BoxError> {
    let uri = format!("{base}/2015-03-31/functions/{}/invocations", d.function);
    let req = hyper::Request::post(uri)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(d.event.to_string())))?;
    let resp = http.request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&body);
    // A stream consumer's success is `null` (its `Ok(())`); cargo lambda reports a function
    // error in the body of a 200, and anything else may be an answer the emulator lost, so it
    // is delivered again (the consumers apply a batch once, however often it comes).
    if !status.is_success() || text.trim() != "null" {
        return Err(format!("{}: {status} {text}", d.function).into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let base = std::env::args()
        .nth(1)
        .ok_or("usage: stream-poller <invoke base URL>")?;
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "refnet".into());
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut poller = Poller::new(&conf, &table).await?;
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    // One queue per function: a long move does not hold back the counts.
    let mut queues = std::collections::HashMap::new();
    for (function, _) in shared::routes::STREAM_FUNCTIONS {
        let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                while let Err(e) = invoke(&http, &base, &d).await {
                    eprintln!("stream-poller: {e}; delivering the batch again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        });
        queues.insert(function, tx);
    }
    eprintln!("stream-poller: delivering {table}'s stream to {base}");
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
