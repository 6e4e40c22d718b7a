//! A webhook receiver on 127.0.0.1 for the tests: it records every request and answers as
//! the test plans (a status after a delay, in turn, then 204). Signatures are checked with
//! RustCrypto's HMAC here, not with Refnet's signing code.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::Sha256;

#[derive(Clone, Debug)]
pub struct Got {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub raw: String,
    pub body: Value,
    /// When its answer went out (its arrival, until then).
    pub answered: Instant,
}

impl Got {
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    got: Vec<Got>,
    plan: VecDeque<(u16, u64)>,
    /// Every request's answer once the plan is spent.
    then: Option<(u16, u64)>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    port: u16,
    inner: Arc<Mutex<Inner>>,
    accept: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            inner: Arc::new(Mutex::new(Inner::default())),
            accept: Arc::new(Mutex::new(None)),
        };
        r.serve(listener);
        r
    }

    /// Down: nothing listens on its port until `resume`.
    pub fn stop(&self) {
        if let Some(h) = self.accept.lock().unwrap().take() {
            h.abort();
        }
    }

    /// Up again, on the same port.
    pub async fn resume(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let shared = self.inner.clone();
        let h = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let inner = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| answer(inner.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        *self.accept.lock().unwrap() = Some(h);
    }

    /// The next requests' answers: (status, delay ms), in turn.
    pub fn plan(&self, answers: &[(u16, u64)]) {
        self.inner
            .lock()
            .unwrap()
            .plan
            .extend(answers.iter().copied());
    }

    /// Every request's answer once the plan is spent.
    pub fn always(&self, status: u16, delay_ms: u64) {
        self.inner.lock().unwrap().then = Some((status, delay_ms));
    }

    pub fn got(&self) -> Vec<Got> {
        self.inner.lock().unwrap().got.clone()
    }
}

async fn answer(
    inner: Arc<Mutex<Inner>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, ts, sig) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let raw = req
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    // Recorded on arrival: a request the sender gave up on still counts as received.
    let (status, delay, index) = {
        let mut i = inner.lock().unwrap();
        let then = i.then.unwrap_or((204, 0));
        let (status, delay) = i.plan.pop_front().unwrap_or(then);
        i.got.push(Got {
            id,
            timestamp: ts.parse().unwrap_or(0),
            signature: sig,
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
            answered: at,
        });
        (status, delay, i.got.len() - 1)
    };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    inner.lock().unwrap().got[index].answered = Instant::now();
    Ok(hyper::Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

/// Whether one of the message's signatures is `secret`'s over its id, timestamp and body.
pub fn signed_by(g: &Got, secret: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", g.id, g.timestamp, g.raw).as_bytes());
    let want = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    g.signature.split(' ').any(|s| s == want)
}
