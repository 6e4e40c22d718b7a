//! The webhook sender's settings. The defaults are the contract's; tests shorten them.

use std::net::IpAddr;
use std::time::Duration;

use super::{millis, secs, ConfigError};
use crate::domain::webhook;

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// The local stack (DynamoDB Local): `http://127.0.0.1` and `http://localhost` URLs too.
    pub allow_local: bool,
    /// Names answered before DNS (`WEBHOOK_RESOLVE`, `host=ip,...`): the tests' resolver.
    pub resolve: Vec<(String, IpAddr)>,
    /// Waits after each failed attempt (`WEBHOOK_RETRY_SCHEDULE_MS`, comma-separated).
    pub schedule: Vec<Duration>,
    /// All messages failing for this long disable the webhook (`WEBHOOK_DISABLE_AFTER_SECS`).
    pub disable_after: Duration,
    /// How long an attempt may take (`WEBHOOK_TIMEOUT_MS`).
    pub timeout: Duration,
    /// How long one run of the sender sweeps for due messages (`WEBHOOK_SWEEP_SECS`).
    pub sweep: Duration,
    /// How often it looks (`WEBHOOK_POLL_MS`).
    pub poll: Duration,
}

impl WebhookSettings {
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        local: bool,
    ) -> Result<WebhookSettings, ConfigError> {
        let resolve = get("WEBHOOK_RESOLVE")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (host, ip) = p.split_once('=').ok_or_else(|| {
                    ConfigError("WEBHOOK_RESOLVE is a list of host=address".into())
                })?;
                let ip = ip.parse::<IpAddr>().map_err(|_| {
                    ConfigError(format!("WEBHOOK_RESOLVE: {ip} is not an IP address"))
                })?;
                Ok((host.to_ascii_lowercase(), ip))
            })
            .collect::<Result<_, ConfigError>>()?;
        let schedule = match get("WEBHOOK_RETRY_SCHEDULE_MS") {
            Some(v) => v
                .split(',')
                .map(|x| x.trim().parse::<u64>().map(Duration::from_millis))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    ConfigError("WEBHOOK_RETRY_SCHEDULE_MS is a list of whole ms".into())
                })?,
            None => webhook::RETRY_SCHEDULE.to_vec(),
        };
        Ok(WebhookSettings {
            allow_local: local,
            resolve,
            schedule,
            disable_after: secs(
                "WEBHOOK_DISABLE_AFTER_SECS",
                get("WEBHOOK_DISABLE_AFTER_SECS"),
                webhook::DISABLE_AFTER.as_secs(),
            )?,
            timeout: millis(
                "WEBHOOK_TIMEOUT_MS",
                get("WEBHOOK_TIMEOUT_MS"),
                webhook::ATTEMPT_TIMEOUT.as_millis() as u64,
            )?,
            sweep: secs("WEBHOOK_SWEEP_SECS", get("WEBHOOK_SWEEP_SECS"), 55)?,
            poll: millis("WEBHOOK_POLL_MS", get("WEBHOOK_POLL_MS"), 500)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contracts() {
        let w = WebhookSettings::from_lookup(&|_| None, false).unwrap();
        assert_eq!(w.schedule, webhook::RETRY_SCHEDULE.to_vec());
        assert_eq!(w.timeout, Duration::from_secs(15));
        assert_eq!(w.disable_after, Duration::from_secs(5 * 86400));
        assert!(!w.allow_local && w.resolve.is_empty());
        let set = |k: &'static str, v: &'static str| move |x: &str| (x == k).then(|| v.to_owned());
        let w =
            WebhookSettings::from_lookup(&set("WEBHOOK_RESOLVE", "a.test=10.0.0.1"), true).unwrap();
        assert_eq!(
            w.resolve,
            vec![("a.test".into(), "10.0.0.1".parse().unwrap())]
        );
        assert!(WebhookSettings::from_lookup(&set("WEBHOOK_RESOLVE", "a.test"), true).is_err());
        let w =
            WebhookSettings::from_lookup(&set("WEBHOOK_RETRY_SCHEDULE_MS", "10,20"), true).unwrap();
        assert_eq!(
            w.schedule,
            vec![Duration::from_millis(10), Duration::from_millis(20)]
        );
    }
}
