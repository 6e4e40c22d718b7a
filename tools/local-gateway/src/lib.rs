//! local-gateway: API Gateway's HTTP API and Lambda's Runtime API on one local port, with each
//! route's function binary in processes of its own. Also Lambda's Invoke API
//! (`POST /2015-03-31/functions/<function>/invocations`), for raw events.

pub mod gateway;
pub mod runtime;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use gateway::{own, Answer};
use runtime::{Host, Outcome, PREFIX};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// API Gateway's payload limit and integration timeout.
const MAX_BODY: usize = 10 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Gateway {
    host: Arc<Host>,
    requests: AtomicU64,
}

/// Listens on `listen` (127.0.0.1); the functions of the routes and the stream consumers come
/// from `bin_dir`, `instances` processes each, started on first use. Returns the bound address.
pub async fn start(
    listen: SocketAddr,
    bin_dir: PathBuf,
    instances: usize,
) -> Result<SocketAddr, BoxError> {
    let names = shared::routes::all_functions();
    Ok(start_with(listen, bin_dir, instances, names).await?.0)
}

/// [`start`] for the functions named, with the host that runs them.
pub async fn start_with(
    listen: SocketAddr,
    bin_dir: PathBuf,
    instances: usize,
    names: impl IntoIterator<Item = &'static str>,
) -> Result<(SocketAddr, Arc<Host>), BoxError> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let host = Host::new(bin_dir, format!("http://{addr}"), instances, names);
    let gw = Arc::new(Gateway {
        host: host.clone(),
        requests: AtomicU64::new(0),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let gw = gw.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let gw = gw.clone();
                    async move { Ok::<_, Infallible>(gw.serve(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((addr, host))
}

fn respond((status, headers, body): Answer) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

impl Gateway {
    async fn serve(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        // The whole body first: nothing is answered on part of a request.
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return respond(own(413, "Request Entity Too Large")),
        };
        let method = parts.method.as_str();
        let path = parts.uri.path();
        if let Some(rest) = path.strip_prefix(PREFIX) {
            let (status, headers, body) = self.host.serve(method, rest, body).await;
            let headers = headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            return respond((status, headers, body));
        }
        if let Some(function) = path
            .strip_prefix("/2015-03-31/functions/")
            .and_then(|p| p.strip_suffix("/invocations"))
            .filter(|_| method == "POST")
        {
            return respond(self.invoke_raw(function, body).await);
        }
        let Some((route, params)) = gateway::route(method, path) else {
            return respond(own(404, "Not Found"));
        };
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let headers = parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), gateway::header_text(v.as_bytes())))
            .collect();
        let incoming = gateway::Incoming {
            method,
            path,
            query: parts.uri.query(),
            headers,
            body,
            request_id: format!("gw-{n}"),
            time_epoch_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default(),
        };
        let event = gateway::event(&incoming, route, params);
        let answer = match self
            .host
            .invoke(route.function, Bytes::from(event.to_string()), TIMEOUT)
            .await
        {
            Some(Outcome::Response(out)) => gateway::answer(&out),
            Some(Outcome::Error(_)) => own(500, "Internal Server Error"),
            None => own(503, "Service Unavailable"),
        };
        respond(answer)
    }

    /// Lambda's Invoke API: the function's output as it is; its error with the header Lambda
    /// sets.
    async fn invoke_raw(&self, function: &str, event: Bytes) -> Answer {
        if !self.host.has(function) {
            return own(404, "Function not found");
        }
        let json = || ("content-type".to_owned(), "application/json".to_owned());
        match self.host.invoke(function, event, TIMEOUT).await {
            Some(Outcome::Response(out)) => (200, vec![json()], out),
            Some(Outcome::Error(out)) => (
                200,
                vec![json(), ("x-amz-function-error".into(), "Unhandled".into())],
                out,
            ),
            None => own(503, "Service Unavailable"),
        }
    }
}
