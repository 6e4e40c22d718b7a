//! A small HTTP client for the local stack and the proxy's control paths.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

#[derive(Clone)]
pub struct Api {
    http: Http,
    pub base: String,
    pub proxy: String,
    key: String,
}

impl Api {
    pub fn new(base: &str, proxy: &str, key: &str) -> Api {
        Api {
            http: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(64)
                .build_http(),
            base: base.trim_end_matches('/').to_owned(),
            proxy: proxy.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        }
    }

    async fn send(
        &self,
        method: &str,
        url: String,
        body: Option<&Value>,
        bearer: bool,
    ) -> Result<(u16, Value), BoxError> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(url)
            .header("content-type", "application/json");
        if bearer {
            req = req.header("authorization", format!("Bearer {}", self.key));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let resp = self
            .http
            .request(req.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A Connections API call with the network's key.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), BoxError> {
        self.send(method, format!("{}{path}", self.base), body, true)
            .await
    }

    /// A DeSo route: credentials travel in the body.
    pub async fn deso(&self, route: &str, body: &Value) -> Result<(u16, Value), BoxError> {
        self.send(
            "POST",
            format!("{}/api/v0/{route}", self.base),
            Some(body),
            false,
        )
        .await
    }

    /// `stats`, `reset` or `hold?ms=N` on the conflict proxy.
    pub async fn proxy(&self, cmd: &str) -> Result<Value, BoxError> {
        let method = if cmd == "stats" { "GET" } else { "POST" };
        Ok(self
            .send(method, format!("{}/__proxy/{cmd}", self.proxy), None, false)
            .await?
            .1)
    }
}
