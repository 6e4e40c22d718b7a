//! A proxy between the functions and DynamoDB Local that does what DynamoDB does on hot items,
//! which DynamoDB Local (one transaction at a time) never shows:
//!
//! - a TransactWriteItems that names an item held by a transaction in flight is cancelled with
//!   DynamoDB's `TransactionCanceledException`, `TransactionConflict` for the held items and
//!   `None` for the others;
//! - a PutItem, UpdateItem or DeleteItem of a held item gets `TransactionConflictException`;
//! - a transaction holds its items from its arrival until `hold` has passed and DynamoDB Local
//!   has applied it, which it does at the end of the hold;
//! - it counts, per item, the transactions that included it.
//!
//! `GET /__proxy/stats` answers the counts, `POST /__proxy/reset` clears them and
//! `POST /__proxy/hold?ms=N` sets the hold; `POST /__proxy/delay?ms=N` delays every DynamoDB
//! request by N ms before it is passed on (a slow store, for fault tests). Tests that run the
//! proxy in process can also add a `Fault` aimed at one request.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the proxy has seen since it started or was reset.
#[derive(Default)]
struct Tally {
    transactions: u64,
    conflicts: u64,
    single_conflicts: u64,
    per_item: HashMap<String, u64>,
    /// Per item, the cancelled transactions it was held in.
    conflicted: HashMap<String, u64>,
}

/// A fault aimed at the first request of `target` (a DynamoDB operation) whose body holds
/// `contains`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// That request waits `ms` before it is passed on.
    DelayOnce {
        target: String,
        contains: String,
        ms: u64,
    },
    /// Once that request is answered, the next `count` requests of any kind get a 500
    /// `InternalServerError` (a store failing right after a write).
    FailAfter {
        target: String,
        contains: String,
        count: u64,
    },
}

impl Fault {
    fn aims_at(&self, op: &str, body: &[u8]) -> bool {
        let (target, contains) = match self {
            Fault::DelayOnce {
                target, contains, ..
            }
            | Fault::FailAfter {
                target, contains, ..
            } => (target, contains),
        };
        target == op
            && body
                .windows(contains.len().max(1))
                .any(|w| w == contains.as_bytes())
    }
}

pub struct Proxy {
    upstream: String,
    hold_ms: AtomicU64,
    delay_ms: AtomicU64,
    faults: Mutex<Vec<Fault>>,
    /// Faults that have met their request.
    fired: AtomicU64,
    /// Requests still to be failed by a `FailAfter`.
    failing: AtomicU64,
    held: Mutex<HashSet<String>>,
    tally: Mutex<Tally>,
    http: Http,
}

/// A running proxy.
pub struct Handle {
    pub addr: SocketAddr,
    pub proxy: Arc<Proxy>,
}

impl Handle {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The key of every item a request writes: table, PK and SK.
fn item_keys(body: &Value, target: &str) -> Vec<String> {
    let key = |table: &Value, k: &Value| {
        format!(
            "{}|{}|{}",
            table.as_str().unwrap_or(""),
            k["PK"]["S"].as_str().unwrap_or(""),
            k["SK"]["S"].as_str().unwrap_or("")
        )
    };
    match target {
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|t| {
                        let (op, k) = if let Some(p) = t.get("Put") {
                            (p, &p["Item"])
                        } else {
                            let op = ["Update", "Delete", "ConditionCheck"]
                                .iter()
                                .find_map(|o| t.get(*o))
                                .unwrap_or(&Value::Null);
                            (op, &op["Key"])
                        };
                        key(&op["TableName"], k)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        "PutItem" => vec![key(&body["TableName"], &body["Item"])],
        "UpdateItem" | "DeleteItem" => vec![key(&body["TableName"], &body["Key"])],
        _ => Vec::new(),
    }
}

fn error(type_: &str, body: Value) -> Response<Full<Bytes>> {
    let mut body = body;
    body["__type"] = json!(format!("com.amazonaws.dynamodb.v20120810#{type_}"));
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::BAD_REQUEST;
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("header"),
    );
    h.insert(
        "x-amzn-requestid",
        "conflict-proxy".parse().expect("header"),
    );
    resp
}

fn ok_json(v: Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(v.to_string())));
    resp.headers_mut()
        .insert("content-type", "application/json".parse().expect("header"));
    resp
}

impl Proxy {
    pub fn hold(&self) -> Duration {
        Duration::from_millis(self.hold_ms.load(Ordering::Relaxed))
    }

    pub fn set_hold(&self, ms: u64) {
        self.hold_ms.store(ms, Ordering::Relaxed);
    }

    /// Adds a fault; it fires once.
    pub fn add_fault(&self, fault: Fault) {
        if let Ok(mut f) = self.faults.lock() {
            f.push(fault);
        }
    }

    /// Drops the faults not yet fired, and stops failing requests.
    pub fn clear_faults(&self) {
        if let Ok(mut f) = self.faults.lock() {
            f.clear();
        }
        self.failing.store(0, Ordering::SeqCst);
    }

    /// How many faults have met their request.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::SeqCst)
    }

    /// The fault aimed at this request, taken out of the list.
    fn take_fault(&self, op: &str, body: &[u8]) -> Option<Fault> {
        let mut faults = self.faults.lock().ok()?;
        let i = faults.iter().position(|f| f.aims_at(op, body))?;
        self.fired.fetch_add(1, Ordering::SeqCst);
        Some(faults.remove(i))
    }

    pub fn reset(&self) {
        if let Ok(mut t) = self.tally.lock() {
            *t = Tally::default();
        }
    }

    /// The counts: transactions, conflicts, and the `top` items most included.
    pub fn stats(&self, top: usize) -> Value {
        let Ok(t) = self.tally.lock() else {
            return json!({});
        };
        let mut items: Vec<(&String, &u64)> = t.per_item.iter().collect();
        items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut contested: Vec<(&String, &u64)> = t.conflicted.iter().collect();
        contested.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let contested: Vec<Value> = contested
            .into_iter()
            .take(top)
            .map(|(k, n)| json!({"item": k, "conflicts": n}))
            .collect();
        let hot: Vec<Value> = items
            .into_iter()
            .take(top)
            .map(|(k, n)| {
                json!({"item": k, "transactions": n,
                       "share": if t.transactions > 0 { *n as f64 / t.transactions as f64 } else { 0.0 }})
            })
            .collect();
        json!({
            "transactions": t.transactions,
            "conflicts": t.conflicts,
            "single_write_conflicts": t.single_conflicts,
            "hottest": hot,
            "most_conflicted": contested,
        })
    }

    async fn forward(
        &self,
        parts: hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<Response<Full<Bytes>>, BoxError> {
        let uri = format!(
            "{}{}",
            self.upstream,
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        );
        let mut req = Request::builder().method(parts.method).uri(uri);
        for (k, v) in parts.headers.iter() {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        let resp = self.http.request(req.body(Full::new(body))?).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, Full::new(body)))
    }

    async fn serve(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, BoxError> {
        let path = req.uri().path().to_owned();
        if let Some(cmd) = path.strip_prefix("/__proxy/") {
            return Ok(match cmd {
                "stats" => ok_json(self.stats(5)),
                "reset" => {
                    self.reset();
                    ok_json(json!({}))
                }
                "hold" | "delay" => {
                    let ms = req
                        .uri()
                        .query()
                        .and_then(|q| q.strip_prefix("ms="))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(20);
                    if cmd == "hold" {
                        self.set_hold(ms);
                        ok_json(json!({"hold_ms": ms}))
                    } else {
                        self.delay_ms.store(ms, Ordering::Relaxed);
                        ok_json(json!({"delay_ms": ms}))
                    }
                }
                _ => error(
                    "UnknownOperationException",
                    json!({"message": "unknown proxy command"}),
                ),
            });
        }
        let delay = self.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.split('.').nth(1))
            .unwrap_or("")
            .to_owned();
        let (parts, body) = req.into_parts();
        let body = body.collect().await?.to_bytes();
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            let mut r = error(
                "InternalServerError",
                json!({"message": "Internal server error"}),
            );
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return Ok(r);
        }
        let mut fail_next = 0;
        match self.take_fault(&target, &body) {
            Some(Fault::DelayOnce { ms, .. }) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Some(Fault::FailAfter { count, .. }) => fail_next = count,
            None => {}
        }
        let resp = self.pass(parts, body, target).await;
        if fail_next > 0 {
            self.failing.store(fail_next, Ordering::SeqCst);
        }
        resp
    }

    /// A DynamoDB request, as DynamoDB would treat it on hot items.
    async fn pass(
        &self,
        parts: hyper::http::request::Parts,
        body: Bytes,
        target: String,
    ) -> Result<Response<Full<Bytes>>, BoxError> {
        let writes = matches!(
            target.as_str(),
            "TransactWriteItems" | "PutItem" | "UpdateItem" | "DeleteItem"
        );
        if !writes {
            return self.forward(parts, body).await;
        }
        let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let keys = item_keys(&doc, &target);
        let arrived = Instant::now();
        if target != "TransactWriteItems" {
            let busy = self
                .held
                .lock()
                .map(|h| keys.iter().any(|k| h.contains(k)))
                .unwrap_or(false);
            if busy {
                if let Ok(mut t) = self.tally.lock() {
                    t.single_conflicts += 1;
                }
                return Ok(error(
                    "TransactionConflictException",
                    json!({"message": "Transaction is ongoing for the item"}),
                ));
            }
            return self.forward(parts, body).await;
        }
        // A transaction: cancelled if any item is held, else it holds them all.
        let conflicting: Option<Vec<bool>> = {
            let mut held = self.held.lock().map_err(|_| "poisoned")?;
            let flags: Vec<bool> = keys.iter().map(|k| held.contains(k)).collect();
            if flags.iter().any(|f| *f) {
                Some(flags)
            } else {
                for k in &keys {
                    held.insert(k.clone());
                }
                None
            }
        };
        if let Ok(mut t) = self.tally.lock() {
            t.transactions += 1;
            for k in &keys {
                *t.per_item.entry(k.clone()).or_default() += 1;
            }
            if let Some(flags) = &conflicting {
                t.conflicts += 1;
                for (k, held) in keys.iter().zip(flags) {
                    if *held {
                        *t.conflicted.entry(k.clone()).or_default() += 1;
                    }
                }
            }
        }
        if let Some(flags) = conflicting {
            let reasons: Vec<Value> = flags
                .iter()
                .map(|held| {
                    if *held {
                        json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"})
                    } else {
                        json!({"Code": "None"})
                    }
                })
                .collect();
            let codes: Vec<&str> = flags
                .iter()
                .map(|h| if *h { "TransactionConflict" } else { "None" })
                .collect();
            return Ok(error(
                "TransactionCanceledException",
                json!({
                    "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
                    "CancellationReasons": reasons,
                }),
            ));
        }
        // Applied at the end of the hold, as a transaction in flight is invisible until it
        // commits.
        let left = self.hold().saturating_sub(arrived.elapsed());
        if !left.is_zero() {
            tokio::time::sleep(left).await;
        }
        let resp = self.forward(parts, body).await;
        if let Ok(mut held) = self.held.lock() {
            for k in &keys {
                held.remove(k);
            }
        }
        resp
    }
}

/// Starts a proxy on `listen` in front of `upstream` (e.g. `http://127.0.0.1:8000`).
pub async fn start(listen: SocketAddr, upstream: &str, hold_ms: u64) -> Result<Handle, BoxError> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let proxy = Arc::new(Proxy {
        upstream: upstream.trim_end_matches('/').to_owned(),
        hold_ms: AtomicU64::new(hold_ms),
        delay_ms: AtomicU64::new(0),
        faults: Mutex::new(Vec::new()),
        fired: AtomicU64::new(0),
        failing: AtomicU64::new(0),
        held: Mutex::new(HashSet::new()),
        tally: Mutex::new(Tally::default()),
        http: Client::builder(TokioExecutor::new()).build_http(),
    });
    let p = proxy.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let p = p.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let p = p.clone();
                    async move {
                        Ok::<_, Infallible>(match p.serve(req).await {
                            Ok(r) => r,
                            Err(e) => {
                                let mut r =
                                    error("InternalServerError", json!({"message": e.to_string()}));
                                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                                r
                            }
                        })
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Handle { addr, proxy })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_kind_of_write() {
        let tx = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "A"}, "SK": {"S": "1"}, "x": {"N": "1"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "B"}, "SK": {"S": "2"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "C"}, "SK": {"S": "3"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "D"}, "SK": {"S": "4"}}}}
        ]});
        assert_eq!(
            item_keys(&tx, "TransactWriteItems"),
            ["t|A|1", "t|B|2", "t|C|3", "t|D|4"]
        );
        let put = json!({"TableName": "t", "Item": {"PK": {"S": "A"}, "SK": {"S": "1"}}});
        assert_eq!(item_keys(&put, "PutItem"), ["t|A|1"]);
        assert!(item_keys(&put, "GetItem").is_empty());
    }
}
