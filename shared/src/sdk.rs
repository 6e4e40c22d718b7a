//! The DynamoDB client's settings, and the connection opened at init.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;

/// The longest one DynamoDB call may take: a request ends within its retry budget plus this.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// SDK settings: short timeouts so an unreachable DynamoDB becomes a prompt 503. Where the
/// environment holds a region and credentials, as Lambda's always does, the client is built from
/// it alone; otherwise (a developer's profile, SSO) from the SDK's default chain.
pub async fn sdk_config() -> aws_sdk_dynamodb::Config {
    match env_sdk_config() {
        Some(conf) => conf,
        None => default_sdk_config().await,
    }
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// The default chain: profile files, SSO, web identity, container and instance metadata.
pub async fn default_sdk_config() -> aws_sdk_dynamodb::Config {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .load()
        .await;
    aws_sdk_dynamodb::config::Builder::from(&shared).build()
}

/// Region, the standard credential variables and `AWS_ENDPOINT_URL_DYNAMODB` (or
/// `AWS_ENDPOINT_URL`), read from the environment with no file or network lookup: a Lambda's
/// cold start skips the default chain, which it never uses there. None when the environment
/// lacks them, or when `REFNET_SDK_DEFAULT_CHAIN` is set.
pub fn env_sdk_config() -> Option<aws_sdk_dynamodb::Config> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if var("REFNET_SDK_DEFAULT_CHAIN").is_some() {
        return None;
    }
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"))?;
    var("AWS_ACCESS_KEY_ID")?;
    var("AWS_SECRET_ACCESS_KEY")?;
    let mut b = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region))
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .timeout_config(timeouts());
    if let Some(client) = bundle_https_client() {
        b = b.http_client(client);
    }
    if let Some(url) = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL")) {
        b = b.endpoint_url(url);
    }
    Some(b.build())
}

/// The SDK's HTTPS client trusting the system's CA bundle (`SSL_CERT_FILE`, else the file
/// openssl-probe finds), read once. The SDK's default also reads every file of the certificate
/// directory, the same roots again: most of its init on a Debian host (README "Cold starts").
/// None, and so the default, when there is no bundle.
fn bundle_https_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let pem = std::fs::read(openssl_probe::probe().cert_file?).ok()?;
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(pem);
    let tls = TlsContext::builder().with_trust_store(trust).build().ok()?;
    Some(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(tls)
            .build_https(),
    )
}

/// The longest the warm-up may hold a cold start.
const WARM_BUDGET: Duration = Duration::from_millis(1500);

/// One DescribeEndpoints (no table, no capacity) so that DNS, TCP, TLS and the credentials are
/// settled before the first request rather than inside it. Any answer, even an error, leaves the
/// connection open; a failure or a timeout only costs the first request what it would have paid.
pub async fn warm(client: &aws_sdk_dynamodb::Client) {
    match tokio::time::timeout(WARM_BUDGET, client.describe_endpoints().send()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::debug!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "warm-up answered with an error")
        }
        Err(_) => tracing::debug!("warm-up timed out"),
    }
}
