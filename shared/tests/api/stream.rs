//! The table's stream, delivered to the aggregator and the move worker as Lambda's event
//! source mappings would, on a thread and runtime of its own: tests come and go, the stream
//! goes on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use lambda_http::{Context, LambdaEvent};
use serde_json::json;
use shared::{AppState, Config};

use crate::harness::TABLE;

/// When the poller last found the stream drained, in ns since the epoch.
static DRAINED_AT: AtomicU64 = AtomicU64::new(0);
static STARTED: OnceLock<()> = OnceLock::new();
/// Networks whose move jobs the test runs itself: the worker leaves them alone.
static MANUAL: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
/// The poller's test switch: records whose keys hold this text are lost.
static DROP: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// From now on, stream records whose keys contain `text` are never delivered (None: all are).
pub fn drop_records_matching(text: Option<&str>) {
    if let Ok(mut d) = DROP.lock() {
        *d = text.map(str::to_owned);
    }
}

/// The mapping of the tests: the template's, with short waits.
fn mapping() -> stream_poller::deliver::Mapping {
    stream_poller::deliver::Mapping {
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_retries: 3,
        ..stream_poller::deliver::Mapping::from_template()
    }
}

/// A consumer's outcome as the mapping reads it.
fn answer(
    got: Result<
        lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse,
        lambda_http::Error,
    >,
) -> stream_poller::deliver::Answer {
    match got {
        Ok(r) => stream_poller::deliver::Answer::Applied(
            r.batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier.unwrap_or_default())
                .collect(),
        ),
        Err(e) => stream_poller::deliver::Answer::Error(e.to_string()),
    }
}

/// From now on, network `net`'s move jobs run only when the test runs them.
pub fn run_jobs_by_hand(net: &str) {
    if let Ok(mut m) = MANUAL.lock() {
        m.push(net.to_owned());
    }
}

/// The event without the records of networks whose jobs tests run by hand.
fn without_manual(mut ev: serde_json::Value) -> serde_json::Value {
    let manual = MANUAL.lock().map(|m| m.clone()).unwrap_or_default();
    if let Some(records) = ev["Records"].as_array_mut() {
        records.retain(|r| {
            let net = r["dynamodb"]["NewImage"]["network_id"]["S"].as_str();
            !net.is_some_and(|n| manual.iter().any(|m| m == n))
        });
    }
    ev
}

fn now_ns() -> u64 {
    shared::clock::now().ns
}

pub fn event<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> LambdaEvent<T> {
    LambdaEvent::new(
        serde_json::from_value(v).expect("a stream event"),
        Context::default(),
    )
}

/// The runtime of what tests share and outlive them: the stream poller, the proxies.
fn background() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// Starts the poller once per process, from the stream's tip.
pub fn start() {
    STARTED.get_or_init(|| {
        let (ready, wait) = std::sync::mpsc::channel();
        background().spawn(run(ready));
        wait.recv().expect("the stream poller started");
    });
}

/// A conflict proxy of its own in front of DynamoDB Local, on an ephemeral port of 127.0.0.1.
pub async fn proxy(hold_ms: u64) -> std::sync::Arc<conflict_proxy::Handle> {
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local");
    let h = background()
        .spawn(async move {
            conflict_proxy::start(([127, 0, 0, 1], 0).into(), &upstream, hold_ms)
                .await
                .expect("a proxy")
        })
        .await
        .expect("the proxy started");
    std::sync::Arc::new(h)
}

async fn run(ready: std::sync::mpsc::Sender<()>) {
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = Config::from_lookup(|k| match k {
        "TABLE_NAME" => Some(TABLE.into()),
        "MOVE_WCU_PER_SEC" => Some("100000".into()),
        "AWS_ENDPOINT_URL_DYNAMODB" => std::env::var(k).ok(),
        _ => None,
    })
    .expect("config");
    let checked = crate::harness::local_sdk_config()
        .await
        .interceptor(crate::policy::PolicyCheck)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(checked);
    let state: &'static AppState = Box::leak(Box::new(AppState::new(config, client)));
    state.store.ensure_table().await.expect("table");
    let mut poller = stream_poller::Poller::new(&conf, TABLE)
        .await
        .expect("the table's stream");
    let destination = stream_poller::Destination::new(&conf, TABLE);
    let _ = ready.send(());
    let mut quiet = 0;
    loop {
        let round = now_ns();
        poller.drop_matching(DROP.lock().ok().and_then(|d| d.clone()));
        let batch = match poller.poll().await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("stream poller: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if batch.is_empty() {
            quiet += 1;
            if quiet >= 2 {
                DRAINED_AT.store(round, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        quiet = 0;
        for d in batch {
            let records = d.event["Records"].as_array().cloned().unwrap_or_default();
            // Derived data is delivered in the poll loop, so a quiet stream means it is written.
            let derived = ["aggregate-counts", "derive-rewards", "merge-boards"];
            if derived.contains(&d.function) {
                deliver_to(state, &destination, d.function, mapping(), records).await;
            } else {
                let records = without_manual(json!({ "Records": records }));
                let records = records["Records"].as_array().cloned().unwrap_or_default();
                let destination = destination.clone();
                // A job's records come again until it ends, and a long job holds back no count.
                let m = stream_poller::deliver::Mapping {
                    max_retries: 1000,
                    ..mapping()
                };
                tokio::spawn(async move {
                    deliver_to(state, &destination, d.function, m, records).await
                });
            }
        }
    }
}

/// Delivers `records` to `function`'s handler under mapping `m`; what it gives up goes to the
/// failure destination.
async fn deliver_to(
    state: &'static AppState,
    destination: &stream_poller::Destination,
    function: &'static str,
    m: stream_poller::deliver::Mapping,
    records: Vec<serde_json::Value>,
) {
    let Some(shared::lambda::Handler::Stream(handler)) = shared::api::handler_of(function) else {
        panic!("{function} is no stream consumer");
    };
    let given_up = stream_poller::deliver::deliver(m, records, |ev| async move {
        answer(crate::policy::as_function(function, handler(state, event(ev))).await)
    })
    .await;
    for g in given_up {
        destination
            .give_up(function, &g)
            .await
            .expect("the failure destination");
    }
}

/// Waits until everything written before the call has gone through the aggregator: up to two
/// minutes, as a 600-member move's edges and their marks (two items each since the marks) on
/// a loaded machine once took longer than 30 s.
pub async fn settle() {
    let t = now_ns();
    for _ in 0..12_000 {
        if DRAINED_AT.load(Ordering::SeqCst) > t {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the stream did not drain within 120 s");
}
