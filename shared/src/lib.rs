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

/// SDK settings: short timeouts so an unreachable DynamoDB becomes a prompt 503.
pub async fn sdk_config() -> aws_sdk_dynamodb::Config {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .load()
        .await;
    aws_sdk_dynamodb::config::Builder::from(&shared).build()
}
