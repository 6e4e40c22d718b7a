//! Environment, read once at start; a bad value stops the process with a clear message.

use std::time::Duration;

use crate::domain::ids::DesoNetwork;
use crate::domain::{DesoPublicKey, NetworkId, ProgramId};

mod webhooks;
pub use webhooks::WebhookSettings;

#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// How long one request may keep retrying conflicts and throttling.
    pub retry_budget: Duration,
    /// The same for routes anyone may call: short, so anonymous load cannot hold functions.
    pub public_retry_budget: Duration,
    /// How long a request holds its `Idempotency-Key` before a retry may run in its place:
    /// longer than a function may run (`IDEMPOTENCY_LEASE_MS`; the template's timeout is 29 s).
    pub idempotency_lease: Duration,
    pub deso_network_id: NetworkId,
    pub deso_program_id: ProgramId,
    /// The DeSo network whose keys are users here; the other network's keys are refused.
    pub deso_key_network: DesoNetwork,
    pub admin_public_keys: Vec<DesoPublicKey>,
    pub super_admin_public_keys: Vec<DesoPublicKey>,
    /// Longest `exp - iat` an admin JWT may have.
    pub admin_jwt_max_lifetime: Duration,
    /// Write capacity units a second a move job may use, so signups keep theirs.
    pub move_wcu_per_sec: f64,
    /// Whether init opens the DynamoDB connection (`REFNET_WARM_CONNECTION`, on by default).
    pub warm_connection: bool,
    /// How old a change must be before the repair holds the counts to it: the aggregator's
    /// time to apply it first (`REPAIR_SETTLE_SECS`).
    pub repair_settle: Duration,
    /// A running job that has not advanced for this long is reported stalled
    /// (`JOB_STALLED_AFTER_SECS`).
    pub job_stalled_after: Duration,
    pub webhooks: WebhookSettings,
}

/// Seeds whose keys the README and the sample events publish: never admins off a local stack.
pub const PUBLISHED_ADMIN_SEEDS: [u8; 2] = [0xa1, 0xa2];

fn key_list(
    name: &str,
    v: Option<String>,
    network: DesoNetwork,
) -> Result<Vec<DesoPublicKey>, ConfigError> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| DesoPublicKey::parse(k, network).map_err(|e| ConfigError(format!("{name}: {e}"))))
        .collect()
}

/// A duration of whole `unit`s (`ms` or `seconds`), or `default` of them when unset.
fn whole(name: &str, v: Option<String>, default: u64, unit: &str) -> Result<Duration, ConfigError> {
    let n = match v {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ConfigError(format!("{name} must be a whole number of {unit}")))?,
        None => default,
    };
    Ok(if unit == "ms" {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    })
}

fn millis(name: &str, v: Option<String>, default: u64) -> Result<Duration, ConfigError> {
    whole(name, v, default, "ms")
}

fn secs(name: &str, v: Option<String>, default: u64) -> Result<Duration, ConfigError> {
    whole(name, v, default, "seconds")
}

/// Whether the DynamoDB endpoint is a local one (DynamoDB Local), not AWS.
pub fn endpoint_is_local(endpoint: Option<&str>) -> bool {
    let Some(e) = endpoint else { return false };
    let rest = e
        .strip_prefix("http://")
        .or_else(|| e.strip_prefix("https://"))
        .unwrap_or(e);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") || rest.starts_with("[::1]")
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
        let net = get("DESO_NETWORK_ID").unwrap_or_else(|| "demo".into());
        let prog = get("DESO_PROGRAM_ID").unwrap_or_else(|| "default".into());
        let deso_key_network = match get("DESO_KEY_NETWORK") {
            Some(v) => v
                .parse::<DesoNetwork>()
                .map_err(|e| ConfigError(format!("DESO_KEY_NETWORK {e}")))?,
            None => DesoNetwork::Mainnet,
        };
        let lifetime = match get("ADMIN_JWT_MAX_LIFETIME_SECS") {
            Some(v) => v.parse::<u64>().ok().filter(|s| *s > 0).ok_or_else(|| {
                ConfigError("ADMIN_JWT_MAX_LIFETIME_SECS must be a positive whole number".into())
            })?,
            None => 3600,
        };
        let local = endpoint_is_local(get("AWS_ENDPOINT_URL_DYNAMODB").as_deref());
        let config = Config {
            webhooks: WebhookSettings::from_lookup(&get, local)?,
            table_name,
            retry_budget: millis("RETRY_BUDGET_MS", get("RETRY_BUDGET_MS"), 10_000)?,
            public_retry_budget: millis(
                "PUBLIC_RETRY_BUDGET_MS",
                get("PUBLIC_RETRY_BUDGET_MS"),
                2_000,
            )?,
            idempotency_lease: millis("IDEMPOTENCY_LEASE_MS", get("IDEMPOTENCY_LEASE_MS"), 30_000)?,
            deso_network_id: NetworkId::try_from(net.as_str())
                .map_err(|e| ConfigError(format!("DESO_NETWORK_ID: {e}")))?,
            deso_program_id: ProgramId::try_from(prog.as_str())
                .map_err(|e| ConfigError(format!("DESO_PROGRAM_ID: {e}")))?,
            deso_key_network,
            admin_public_keys: key_list(
                "ADMIN_PUBLIC_KEYS",
                get("ADMIN_PUBLIC_KEYS"),
                deso_key_network,
            )?,
            super_admin_public_keys: key_list(
                "SUPER_ADMIN_PUBLIC_KEYS",
                get("SUPER_ADMIN_PUBLIC_KEYS"),
                deso_key_network,
            )?,
            admin_jwt_max_lifetime: Duration::from_secs(lifetime),
            move_wcu_per_sec: match get("MOVE_WCU_PER_SEC") {
                Some(v) => v.parse::<f64>().ok().filter(|r| *r > 0.0).ok_or_else(|| {
                    ConfigError("MOVE_WCU_PER_SEC must be a positive number".into())
                })?,
                None => 400.0,
            },
            repair_settle: secs("REPAIR_SETTLE_SECS", get("REPAIR_SETTLE_SECS"), 300)?,
            job_stalled_after: secs("JOB_STALLED_AFTER_SECS", get("JOB_STALLED_AFTER_SECS"), 900)?,
            warm_connection: match get("REFNET_WARM_CONNECTION").as_deref().map(str::trim) {
                None | Some("1" | "true" | "on") => true,
                Some("0" | "false" | "off") => false,
                Some(_) => {
                    return Err(ConfigError(
                        "REFNET_WARM_CONNECTION must be 1, true, on, 0, false or off".into(),
                    ))
                }
            },
        };
        if !local {
            config.refuse_published_admins()?;
        }
        Ok(config)
    }

    /// Who may call the admin routes, for `auth::deso::authorize_admin`.
    pub fn admin_policy(&self) -> crate::auth::deso::AdminPolicy<'_> {
        crate::auth::deso::AdminPolicy {
            network: self.deso_key_network,
            max_lifetime_secs: self.admin_jwt_max_lifetime.as_secs(),
            admins: &self.admin_public_keys,
            super_admins: &self.super_admin_public_keys,
        }
    }

    /// The demo seeds are public: an admin key made from one is an open door on a real table.
    fn refuse_published_admins(&self) -> Result<(), ConfigError> {
        for seed in PUBLISHED_ADMIN_SEEDS {
            let published = DesoPublicKey::of_seed(&[seed; 32], self.deso_key_network);
            if self
                .admin_public_keys
                .iter()
                .chain(&self.super_admin_public_keys)
                .any(|k| Some(k) == published.as_ref())
            {
                return Err(ConfigError(format!(
                    "ADMIN_PUBLIC_KEYS/SUPER_ADMIN_PUBLIC_KEYS hold the published demo key of seed \
                     {seed:02x}..{seed:02x}; it is refused unless AWS_ENDPOINT_URL_DYNAMODB is a \
                     local endpoint"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_admin() -> String {
        DesoPublicKey::of_seed(&[0xa1; 32], DesoNetwork::Mainnet)
            .unwrap()
            .as_str()
            .to_owned()
    }

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.table_name, "refnet");
        assert_eq!(c.deso_network_id.as_str(), "demo");
        assert_eq!(c.deso_key_network, DesoNetwork::Mainnet);
        assert_eq!(c.public_retry_budget, Duration::from_secs(2));
        assert_eq!(c.admin_jwt_max_lifetime, Duration::from_secs(3600));
        let bad = Config::from_lookup(|k| (k == "DESO_NETWORK_ID").then(|| "a b".into()));
        assert!(bad.unwrap_err().to_string().contains("DESO_NETWORK_ID"));
        let bad = Config::from_lookup(|k| (k == "RETRY_BUDGET_MS").then(|| "x".into()));
        assert!(bad.is_err());
        let bad = Config::from_lookup(|k| (k == "ADMIN_PUBLIC_KEYS").then(|| "BC1YLbad".into()));
        assert!(bad.unwrap_err().to_string().contains("ADMIN_PUBLIC_KEYS"));
        let bad = Config::from_lookup(|k| (k == "DESO_KEY_NETWORK").then(|| "devnet".into()));
        assert!(bad.unwrap_err().to_string().contains("DESO_KEY_NETWORK"));
        let bad = Config::from_lookup(|k| (k == "ADMIN_JWT_MAX_LIFETIME_SECS").then(|| "0".into()));
        assert!(bad.is_err());
        assert!(c.admin_public_keys.is_empty());
        assert!(c.warm_connection);
        let off = Config::from_lookup(|k| (k == "REFNET_WARM_CONNECTION").then(|| "0".into()));
        assert!(!off.unwrap().warm_connection);
        let bad = Config::from_lookup(|k| (k == "REFNET_WARM_CONNECTION").then(|| "no".into()));
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("REFNET_WARM_CONNECTION"));
    }

    #[test]
    fn published_demo_admins_only_on_a_local_endpoint() {
        let key = demo_admin();
        let with = |endpoint: Option<&'static str>| {
            let key = key.clone();
            Config::from_lookup(move |k| match k {
                "SUPER_ADMIN_PUBLIC_KEYS" => Some(key.clone()),
                "AWS_ENDPOINT_URL_DYNAMODB" => endpoint.map(str::to_owned),
                _ => None,
            })
        };
        let e = with(None).unwrap_err().to_string();
        assert!(e.contains("published demo key"), "{e}");
        assert!(with(Some("https://dynamodb.us-east-1.amazonaws.com")).is_err());
        assert!(with(Some("http://127.0.0.1.evil.example:8000")).is_err());
        assert!(with(Some("http://127.0.0.1:8000")).is_ok());
        assert!(with(Some("http://localhost:8000")).is_ok());
    }

    #[test]
    fn keys_of_the_other_network_are_refused() {
        let main = demo_admin();
        let key = *DesoPublicKey::parse(&main, DesoNetwork::Mainnet)
            .unwrap()
            .key_bytes();
        let test = DesoPublicKey::from_key_bytes(key, DesoNetwork::Testnet);
        let t = test.as_str().to_owned();
        let bad = Config::from_lookup(move |k| (k == "ADMIN_PUBLIC_KEYS").then(|| t.clone()));
        assert!(bad.unwrap_err().to_string().contains("BC1YL"));
    }
}
