//! The one place that calls a customer's server: it resolves the host, refuses an address
//! that is not public (at every attempt, so a DNS change cannot point a webhook inward),
//! connects to the address it checked, and POSTs once, following no redirect.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::domain::webhook::{Target, UrlRefusal};

/// What an attempt got: the status, or why there was none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// No answer: refused address, DNS, connection, TLS or timeout. The text is for the log.
    None(String),
}

#[derive(Clone)]
pub struct Sender {
    tls: Arc<rustls::ClientConfig>,
    resolve: Vec<(String, IpAddr)>,
    allow_local: bool,
    timeout: Duration,
}

impl Sender {
    /// Trusts the system's CA bundle (as the SDK client does); no bundle, no HTTPS targets.
    pub fn new(resolve: Vec<(String, IpAddr)>, allow_local: bool, timeout: Duration) -> Sender {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(file) = openssl_probe::probe().cert_file {
            if let Ok(certs) = CertificateDer::pem_file_iter(file) {
                roots.add_parsable_certificates(certs.flatten());
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|_| {
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            });
        Sender {
            tls: Arc::new(tls),
            resolve,
            allow_local,
            timeout,
        }
    }

    /// The addresses of the target's host; refused if any is not one it may reach.
    pub async fn check(&self, t: &Target) -> Result<IpAddr, UrlRefusal> {
        let found: Vec<IpAddr> = if let Some(ip) = t.literal() {
            vec![ip]
        } else if let Some((_, ip)) = self.resolve.iter().find(|(h, _)| *h == t.host) {
            vec![*ip]
        } else {
            tokio::net::lookup_host((t.host.as_str(), t.port))
                .await
                .map_err(|_| UrlRefusal::Unresolvable)?
                .map(|a| a.ip())
                .collect()
        };
        if found.is_empty() {
            return Err(UrlRefusal::Unresolvable);
        }
        if found.iter().any(|ip| !t.may_reach(*ip, self.allow_local)) {
            return Err(UrlRefusal::NotPublic);
        }
        Ok(found[0])
    }

    /// One POST of `body` with `headers`, within the attempt's timeout.
    pub async fn post(&self, t: &Target, headers: &[(&str, String)], body: String) -> Answer {
        match tokio::time::timeout(self.timeout, self.exchange(t, headers, body)).await {
            Ok(Ok(status)) => Answer::Status(status),
            Ok(Err(e)) => Answer::None(e),
            Err(_) => Answer::None(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn exchange(
        &self,
        t: &Target,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<u16, String> {
        let ip = self.check(t).await.map_err(|r| r.message().to_owned())?;
        let tcp = tokio::net::TcpStream::connect((ip, t.port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut req = hyper::Request::post(t.path.as_str())
            .header(hyper::header::HOST, host_header(t))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "Refnet-Webhooks/1.0");
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("request: {e}"))?;
        if t.https {
            let name = ServerName::try_from(t.host.clone()).map_err(|e| format!("tls: {e}"))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| format!("tls: {e}"))?;
            send(tls, req).await
        } else {
            send(tcp, req).await
        }
    }
}

fn host_header(t: &Target) -> String {
    let host = if t.host.contains(':') {
        format!("[{}]", t.host)
    } else {
        t.host.clone()
    };
    let default = if t.https { 443 } else { 80 };
    if t.port == default {
        host
    } else {
        format!("{host}:{}", t.port)
    }
}

async fn send<S>(io: S, req: hyper::Request<Full<Bytes>>) -> Result<u16, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("http: {e}"))?;
    let driver = tokio::spawn(conn);
    let status = tx
        .send_request(req)
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("http: {e}"));
    driver.abort();
    status
}
