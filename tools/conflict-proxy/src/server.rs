//! The proxy's listener: one task a connection, each request through `Proxy::serve`.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use hyper::StatusCode;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;

use crate::tally::Tally;
use crate::wire::error;
use crate::{BoxError, Proxy};

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
