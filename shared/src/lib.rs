//! Refnet: referral programs on Lambda and DynamoDB. All logic lives in this crate.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod lambda;
pub mod policy;
pub mod random;
pub mod routes;
pub mod sdk;
pub mod store;
pub mod telemetry;

pub use config::Config;
pub use sdk::{default_sdk_config, env_sdk_config, sdk_config, ATTEMPT_TIMEOUT};
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
        if config.warm_connection {
            sdk::warm(&client).await;
        }
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
