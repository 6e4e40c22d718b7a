//! Environment, read once at start; a bad value stops the process with a clear message.

use std::time::Duration;

use crate::domain::{DesoPublicKey, NetworkId, ProgramId};

#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// How long one request may keep retrying conflicts and throttling.
    pub retry_budget: Duration,
    pub deso_network_id: NetworkId,
    pub deso_program_id: ProgramId,
    pub admin_public_keys: Vec<DesoPublicKey>,
    pub super_admin_public_keys: Vec<DesoPublicKey>,
}

fn key_list(name: &str, v: Option<String>) -> Result<Vec<DesoPublicKey>, ConfigError> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| DesoPublicKey::try_from(k).map_err(|e| ConfigError(format!("{name}: {e}"))))
        .collect()
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let table_name = get("TABLE_NAME").unwrap_or_else(|| "refnet".to_owned());
        if !(3..=255).contains(&table_name.len()) {
            return Err(ConfigError("TABLE_NAME must be 3 to 255 characters".into()));
        }
        let retry_ms = match get("RETRY_BUDGET_MS") {
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| ConfigError("RETRY_BUDGET_MS must be a whole number of ms".into()))?,
            None => 10_000,
        };
        let net = get("DESO_NETWORK_ID").unwrap_or_else(|| "demo".into());
        let prog = get("DESO_PROGRAM_ID").unwrap_or_else(|| "default".into());
        Ok(Config {
            table_name,
            retry_budget: Duration::from_millis(retry_ms),
            deso_network_id: NetworkId::try_from(net.as_str())
                .map_err(|e| ConfigError(format!("DESO_NETWORK_ID: {e}")))?,
            deso_program_id: ProgramId::try_from(prog.as_str())
                .map_err(|e| ConfigError(format!("DESO_PROGRAM_ID: {e}")))?,
            admin_public_keys: key_list("ADMIN_PUBLIC_KEYS", get("ADMIN_PUBLIC_KEYS"))?,
            super_admin_public_keys: key_list(
                "SUPER_ADMIN_PUBLIC_KEYS",
                get("SUPER_ADMIN_PUBLIC_KEYS"),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.table_name, "refnet");
        assert_eq!(c.deso_network_id.as_str(), "demo");
        let bad = Config::from_lookup(|k| (k == "DESO_NETWORK_ID").then(|| "a b".into()));
        assert!(bad.unwrap_err().to_string().contains("DESO_NETWORK_ID"));
        let bad = Config::from_lookup(|k| (k == "RETRY_BUDGET_MS").then(|| "x".into()));
        assert!(bad.is_err());
        let bad = Config::from_lookup(|k| (k == "ADMIN_PUBLIC_KEYS").then(|| "BC1YLbad".into()));
        assert!(bad.unwrap_err().to_string().contains("ADMIN_PUBLIC_KEYS"));
        assert!(c.admin_public_keys.is_empty());
    }
}
