//! Refnet: referral programs on Lambda and DynamoDB. All logic lives in this crate.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod routes;
pub mod store;
pub mod telemetry;

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;

pub use config::Config;
pub use store::Store;

/// Built once per process and borrowed by every invocation.
pub struct AppState {
    pub config: Config,
    pub store: Store,
    /// The store for routes anyone may call: a short retry budget.
    pub public_store: Store,
}

impl AppState {
    /// Reads the environment and builds the DynamoDB client; lives for the whole process.
    pub async fn load() -> Result<&'static AppState, lambda_http::Error> {
        let config = Config::from_env()?;
        let client = aws_sdk_dynamodb::Client::from_conf(sdk_config().await);
        Ok(Box::leak(Box::new(AppState::new(config, client))))
    }

    pub fn new(config: Config, client: aws_sdk_dynamodb::Client) -> AppState {
        let store = Store::new(client, config.table_name.clone(), config.retry_budget)
            .with_move_rate(config.move_wcu_per_sec);
        let public_store = store.with_retry_budget(config.public_retry_budget);
        AppState {
            config,
            store,
            public_store,
        }
    }
}

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
    if let Some(url) = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL")) {
        b = b.endpoint_url(url);
    }
    Some(b.build())
}
