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

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use serde_json::{json, Value};

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

mod fault;
mod server;
mod tally;
mod wire;

pub use fault::Fault;
pub use server::{start, Handle};
use tally::Tally;
use wire::{error, item_keys, ok_json};

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
        match self.tally.lock() {
            Ok(t) => t.render(top),
            Err(_) => json!({}),
        }
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
        if let Ok(mut t) = self.tally.lock() {
            *t.calls.entry(target.clone()).or_default() += 1;
        }
        let (parts, body) = req.into_parts();
        let body = body.collect().await?.to_bytes();
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        let internal = || {
            let mut r = error(
                "InternalServerError",
                json!({"message": "Internal server error"}),
            );
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        };
        if failing.is_ok() {
            return Ok(internal());
        }
        let mut fail_next = 0;
        match self.take_fault(&target, &body) {
            Some(Fault::DelayOnce { ms, .. }) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Some(Fault::FailAfter { count, .. }) => fail_next = count,
            Some(Fault::AnswerLost { count, .. }) => {
                let _applied = self.pass(parts, body, target).await;
                self.failing.store(count, Ordering::SeqCst);
                return Ok(internal());
            }
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
