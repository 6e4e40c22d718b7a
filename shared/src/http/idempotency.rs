//! The `Idempotency-Key` layer every write of the Connections API, rewards and webhooks passes
//! through (`api::endpoint!`): claim the key, replay a kept answer, or run the handler under a
//! lease and keep its answer with its write (`store::idempotency`).

use std::future::Future;

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::domain::NetworkId;
use crate::store::idempotency::{Answer, Claim, Finished, Lease, Scope};
use crate::store::Store;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// Headers a kept answer carries; the rest are the function's, not the answer's.
const KEPT_HEADERS: [&str; 2] = ["content-type", "location"];

pub fn in_use() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still running; retry when it has answered",
    )
}

fn reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was used with another method, path or body",
    )
}

/// The header's key: 1 to 255 printable ASCII characters.
pub fn key_of(raw: &HeaderValue) -> Result<String, ApiError> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// What a key is bound to: the method, the path and the body.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether an answer is kept: 2xx, and 4xx but for credentials, a key in use and throttling.
pub fn kept(status: StatusCode, code: Option<&str>) -> bool {
    match status.as_u16() {
        200..=299 => true,
        401 | 403 | 429 => false,
        409 => code != Some("idempotency_key_in_use"),
        400..=499 => true,
        _ => false,
    }
}

fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// A handler's outcome as it would be answered and kept. Secrets are never kept: a field
/// named `secret` is left out of the kept body.
pub fn answer_of(outcome: &Result<Response<Body>, ApiError>) -> Option<Answer> {
    let rendered;
    let resp = match outcome {
        Ok(r) => r,
        Err(e) => {
            if !kept(e.status, Some(e.code)) {
                return None;
            }
            rendered = e.clone().into_response();
            &rendered
        }
    };
    if !kept(resp.status(), None) {
        return None;
    }
    let text = std::str::from_utf8(body_bytes(resp.body())).ok()?;
    let body = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v) => {
            drop_secrets(&mut v);
            v.to_string()
        }
        Err(_) => text.to_owned(),
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|h| {
            let v = resp.headers().get(*h)?.to_str().ok()?;
            Some(((*h).to_owned(), v.to_owned()))
        })
        .collect();
    Some(Answer {
        status: resp.status().as_u16(),
        headers,
        body,
    })
}

fn drop_secrets(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("secret");
            m.values_mut().for_each(drop_secrets);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(drop_secrets),
        _ => {}
    }
}

/// A kept answer, sent again.
pub fn replay(a: Answer) -> Response<Body> {
    let body = if a.body.is_empty() {
        Body::Empty
    } else {
        Body::Text(a.body)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    for (k, v) in a.headers {
        if let (Ok(k), Ok(v)) = (
            lambda_http::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}

/// The same request again, for a second run.
fn copy(req: &Request) -> Request {
    let mut out = Request::new(req.body().clone());
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    out
}

/// Runs `run` on `req`, under the request's `Idempotency-Key` when it has one; a request
/// holds the key for `lease` at most.
pub async fn guard<'a, F, Fut>(
    store: &Store,
    lease: std::time::Duration,
    req: Request,
    run: F,
) -> Result<Response<Body>, ApiError>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send + 'a,
{
    // The handler's future, boxed: its type nests in this one's, and a handler's is deep
    // enough that rustc's layout queries overflow their depth limit on a fresh build.
    let run = |req: Request| -> Answering<'a> { Box::pin(run(req)) };
    let writes = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let net = req
        .path_parameters_ref()
        .and_then(|p| p.first("network_id"))
        .and_then(|n| NetworkId::try_from(n).ok());
    let (Some(raw), true, Some(net)) = (req.headers().get(HEADER), writes, net) else {
        return run(req).await;
    };
    let key = key_of(raw)?;
    let Ok(probe) = crate::auth::probe(&req) else {
        return run(req).await;
    };
    let fp = fingerprint(req.method(), req.uri().path(), body_bytes(req.body()));
    let key_hash = crate::auth::hash_key(&key);
    match store.claim(&probe, &net, &key_hash, &fp, lease).await? {
        Claim::Unauthenticated => run(req).await,
        Claim::Reused => Err(reused()),
        Claim::InUse => Err(in_use()),
        Claim::Replay(a) => Ok(replay(a)),
        Claim::Claimed(lease) => claimed(store, &lease, req, run).await,
    }
}

type Answering<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send + 'a>>;

/// The run of a request that holds the lease: its first transaction is held back and sent
/// with the answer; if it cannot be, the request runs again with its writes sent as they come,
/// and the answer follows them.
async fn claimed<F, Fut>(
    store: &Store,
    lease: &Lease,
    req: Request,
    run: F,
) -> Result<Response<Body>, ApiError>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let again = copy(&req);
    let scope = Scope::speculating(lease.clone());
    let first = scope.run(run(req)).await;
    match scope.finish() {
        Finished::Done => return settle(store, lease, first).await,
        Finished::Held(items) => {
            if let Some(answer) = answer_of(&first) {
                match store.commit_held(lease, items, &answer).await {
                    Ok(true) => return first,
                    Ok(false) => {}
                    Err(e) => {
                        // Whether it committed or not, the key can go: a record that holds
                        // its answer is replayed, never taken over.
                        let _ = store.release(lease).await;
                        return Err(e.into());
                    }
                }
            }
        }
        Finished::Aborted => {}
    }
    let scope = Scope::plain(lease.clone());
    let second = scope.run(run(again)).await;
    settle(store, lease, second).await
}

/// Keeps a complete answer, or lets the key go for a retry to run.
async fn settle(
    store: &Store,
    lease: &Lease,
    outcome: Result<Response<Body>, ApiError>,
) -> Result<Response<Body>, ApiError> {
    let done = match answer_of(&outcome) {
        Some(a) => store.record_answer(lease, &a).await.map(|_| ()),
        None => store.release(lease).await,
    };
    if let Err(e) = done {
        // The answer stands; a retry after the lease runs the request again.
        tracing::warn!(error = %super::error_chain(&e), "idempotency record not settled");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_up_to_255() {
        assert!(key_of(&HeaderValue::from_static("a")).is_ok());
        assert!(key_of(&HeaderValue::from_str(&"k".repeat(255)).unwrap()).is_ok());
        assert!(key_of(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_err());
        assert!(key_of(&HeaderValue::from_static("")).is_err());
        assert!(key_of(&HeaderValue::from_bytes(b"a\tb").unwrap()).is_err());
        assert!(key_of(&HeaderValue::from_bytes(&[0x61, 0xe9]).unwrap()).is_err());
        assert!(key_of(&HeaderValue::from_static("order 42 / retry")).is_ok());
    }

    #[test]
    fn a_key_past_ascii_in_an_event_is_refused_not_lost() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/create-code.json");
        let mut ev: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        ev["headers"][HEADER] = serde_json::json!("\u{d7}\u{f8}\u{9b}");
        let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
        let raw = req.headers().get(HEADER).expect("the header arrives");
        assert!(key_of(raw).is_err());
    }

    #[test]
    fn kept_answers_leave_out_credentials_in_use_and_throttling() {
        for s in [200, 201, 202, 400, 404, 409, 422] {
            assert!(kept(StatusCode::from_u16(s).unwrap(), Some("x")), "{s}");
        }
        for s in [401, 403, 429, 500, 503] {
            assert!(!kept(StatusCode::from_u16(s).unwrap(), Some("x")), "{s}");
        }
        assert!(!kept(StatusCode::CONFLICT, Some("idempotency_key_in_use")));
    }

    #[test]
    fn fingerprints_bind_method_path_and_body() {
        let a = fingerprint(&Method::POST, "/networks/n/events", b"{}");
        assert_eq!(a, fingerprint(&Method::POST, "/networks/n/events", b"{}"));
        assert_ne!(a, fingerprint(&Method::PUT, "/networks/n/events", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/networks/m/events", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/networks/n/events", b"{ }"));
    }

    #[test]
    fn kept_answers_hold_no_secret() {
        let resp = super::super::json_response(
            StatusCode::CREATED,
            &serde_json::json!({"webhook": {"id": "w", "secret": "whsec_x"}}),
        );
        let a = answer_of(&Ok(resp)).unwrap();
        assert_eq!(a.status, 201);
        assert!(!a.body.contains("whsec_x"), "{}", a.body);
        assert!(a.body.contains("\"id\":\"w\""));
        let replayed = replay(a);
        assert_eq!(replayed.headers()[REPLAYED], "true");
        assert_eq!(replayed.headers()["content-type"], "application/json");
    }

    #[test]
    fn refusals_are_kept_as_answered() {
        let a = answer_of(&Err(ApiError::not_found("code_not_found", "no such code"))).unwrap();
        assert_eq!(a.status, 404);
        assert!(a.body.contains("code_not_found"));
        assert!(answer_of(&Err(in_use())).is_none());
        assert!(answer_of(&Err(super::super::internal())).is_none());
    }
}
