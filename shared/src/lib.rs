//! Refnet: referral programs on Lambda and DynamoDB. All logic lives in this crate.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod lambda;
pub mod outbound;
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
    /// The webhook sender's client, built when first needed (it reads the CA bundle).
    outbound: std::sync::OnceLock<outbound::Sender>,
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
            outbound: std::sync::OnceLock::new(),
        }
    }

    pub fn sender(&self) -> &outbound::Sender {
        self.outbound.get_or_init(|| {
            let w = &self.config.webhooks;
            outbound::Sender::new(w.resolve.clone(), w.allow_local, w.timeout)
        })
    }
}

#[cfg(test)]
mod layers {
    /// What each layer may not name: `domain` <- `store` <- `auth`, `http` <- `api` <- the
    /// functions. Leaf modules (`clock`, `random`, `telemetry`) serve every layer.
    const RULES: [(&str, &[&str]); 4] = [
        (
            "domain",
            &[
                "store", "auth", "http", "api", "config", "lambda", "routes", "policy", "AppState",
                "Config",
            ],
        ),
        (
            "store",
            &[
                "auth", "http", "api", "config", "lambda", "AppState", "Config",
            ],
        ),
        (
            "auth",
            &["http", "api", "config", "lambda", "AppState", "Config"],
        ),
        ("http", &["api", "lambda", "AppState", "Config"]),
    ];

    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path.display().to_string(), text));
            }
        }
    }

    #[test]
    fn no_layer_names_a_layer_above_it() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut seen = 0;
        for (layer, forbidden) in RULES {
            let mut files = Vec::new();
            sources(&src.join(layer), &mut files);
            let single = src.join(format!("{layer}.rs"));
            if let Ok(text) = std::fs::read_to_string(&single) {
                files.push((single.display().to_string(), text));
            }
            assert!(!files.is_empty(), "{layer} has sources");
            for (path, text) in files {
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for name in forbidden {
                    let used = format!("crate::{name}");
                    let at = code.match_indices(&used).find(|(i, _)| {
                        let next = code[i + used.len()..].chars().next();
                        next.is_none_or(|c| !c.is_alphanumeric() && c != '_')
                    });
                    assert!(at.is_none(), "{path} names {used}, a layer above {layer}");
                }
                seen += 1;
            }
        }
        assert!(seen > 30, "read the layers' files: {seen}");
    }
}
