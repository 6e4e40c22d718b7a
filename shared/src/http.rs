//! Request and response plumbing shared by every endpoint: bodies, path and query
//! parameters, the error format and cursors.

use std::time::{Duration, Instant};

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

mod cursor;
pub mod idempotency;

pub use cursor::{decode_cursor, encode_cursor};

use crate::domain::DomainError;
use crate::store::StoreError;

pub const MAX_BODY: usize = 64 * 1024;

/// A failed request, as the Connections API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        self.with_body(&body)
    }

    /// DeSo's error format: `{"error": "<message>"}`.
    pub fn into_deso_response(self) -> Response<Body> {
        let body = serde_json::json!({"error": self.message});
        self.with_body(&body)
    }

    fn with_body(self, body: &serde_json::Value) -> Response<Body> {
        let mut resp = json_response(self.status, body);
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from(s));
        }
        resp
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { code, message } => ApiError::bad_request(code, message),
            DomainError::Internal(what) => {
                tracing::error!(error = what, "domain failure");
                internal()
            }
        }
    }
}

/// A failure the client cannot fix; nothing internal is said.
pub fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; the request was not applied",
    )
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %error_chain(&e), "store unavailable");
                ApiError::unavailable("the store is busy or unreachable; retry shortly")
            }
            StoreError::Contention => {
                tracing::warn!("contention outlasted the retry budget");
                ApiError::unavailable(
                    "too many concurrent changes to the same records; retry shortly",
                )
            }
            StoreError::LeaseLost => idempotency::in_use(),
            // Replaced by the request's second run; never answered.
            StoreError::Deferred => internal(),
            StoreError::Corrupt(_) | StoreError::Other(_) => {
                tracing::error!(error = %error_chain(&e), "store failure");
                internal()
            }
        }
    }
}

/// The error and its causes, for the log only.
pub use crate::telemetry::error_chain;

/// 201 when the request created its subject, else 200.
pub fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// Runs a Connections API endpoint: every outcome becomes a response.
pub async fn serve<F, Fut>(
    budget: Duration,
    req: Request,
    f: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, ApiError>>,
{
    serve_as(budget, req, f, ApiError::into_response).await
}

/// Runs a DeSo-compatible endpoint: errors take DeSo's format.
pub async fn serve_deso<F, Fut>(
    budget: Duration,
    req: Request,
    f: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, ApiError>>,
{
    serve_as(budget, req, f, ApiError::into_deso_response).await
}

/// Every outcome becomes a response, and one log line says how it went. No request runs past
/// `budget` (the route's retry budget) plus one call's timeout: a slow or unreachable store
/// answers 503 in time, while a call already under way may finish.
async fn serve_as<F, Fut>(
    budget: Duration,
    req: Request,
    f: F,
    render: fn(ApiError) -> Response<Body>,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = Instant::now();
    let request_id = req
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %request_id);
    let _enter = span.enter();
    let outcome = tokio::time::timeout(budget + crate::ATTEMPT_TIMEOUT, f(req))
        .await
        .unwrap_or_else(|_| {
            tracing::warn!("the request ran out of its budget");
            Err(ApiError::unavailable(
                "the store is slow or unreachable; retry shortly",
            ))
        });
    let resp = match outcome {
        Ok(r) => r,
        Err(e) => {
            if e.status.is_client_error() {
                tracing::info!(code = e.code, "request refused");
            }
            render(e)
        }
    };
    tracing::info!(
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request done"
    );
    Ok(resp)
}

pub fn body_bytes(req: &Request) -> Result<&[u8], ApiError> {
    body_bytes_up_to(req, MAX_BODY)
}

pub fn body_bytes_up_to(req: &Request, max: usize) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is over {} KiB", max / 1024),
        ));
    }
    Ok(bytes)
}

/// The JSON body as `T`. An empty body counts as `{}` when `empty_ok`.
pub fn json_body<T: DeserializeOwned>(req: &Request, empty_ok: bool) -> Result<T, ApiError> {
    from_fields(json_fields(req, empty_ok)?)
}

/// The JSON body's fields, nulls included: for the few fields where null means "clear".
pub fn json_fields(
    req: &Request,
    empty_ok: bool,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let bytes = body_bytes(req)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid_json", "the body is not valid UTF-8"))?;
    if text.trim().is_empty() {
        if empty_ok {
            return Ok(serde_json::Map::new());
        }
        return Err(ApiError::bad_request(
            "invalid_json",
            "a JSON object body is required",
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })?;
    let serde_json::Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object",
        ));
    };
    Ok(fields)
}

/// Body fields as `T`.
pub fn from_fields<T: DeserializeOwned>(
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> Result<T, ApiError> {
    // A null field is an absent one, on both API families (Go's decoder, which DeSo's clients
    // were written against, leaves the zero value).
    fields.retain(|_, v| !v.is_null());
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid body: {e}")))
}

/// A path parameter, read from the raw (still percent-encoded) path by matching `template`
/// from its end (a stage prefix may come first), and decoded exactly once. The event's
/// `pathParameters` are not used: API Gateway hands them over decoded and the local emulator
/// does not, so decoding them would be right in one place and wrong in the other.
pub fn path_param(req: &Request, template: &str, name: &str) -> Result<String, ApiError> {
    let raw_path = match req.raw_http_path() {
        "" => req.uri().path(),
        p => p,
    };
    let raw = crate::routes::params(template, raw_path, true)
        .and_then(|ps| ps.into_iter().find(|(n, _)| *n == name))
        .map(|(_, v)| v)
        .ok_or_else(|| ApiError::bad_request("invalid_path", format!("the path lacks {name}")))?;
    percent_encoding::percent_decode_str(&raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::bad_request("invalid_path", format!("{name} is not valid UTF-8")))
}

pub fn query_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
}

/// `?limit=`: 1..=100, 50 when absent.
pub fn limit(req: &Request) -> Result<i32, ApiError> {
    // at most 100: always an i32
    Ok(limit_within(req, 100, 50)? as i32)
}

/// `?limit=`: 1..=`max`, `default` when absent.
pub fn limit_within(req: &Request, max: usize, default: usize) -> Result<usize, ApiError> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "invalid_limit",
                format!("limit must be 1 to {max}"),
            )),
        },
    }
}
