//! Webhooks as Standard Webhooks 1.0 describes them: event types and subscriptions, the URL
//! rules, message ids, signatures and the retry schedule. Pure: resolving and sending live
//! in `crate::outbound`.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

mod url_rules;
pub use url_rules::{parse_url, public_ip, Target, UrlRefusal};

/// Webhooks a network may have.
pub const MAX_WEBHOOKS: u64 = 20;
/// A message body stays under this many bytes.
pub const MAX_BODY: usize = 20 * 1024;
/// How long an attempt may take before it counts as failed.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// After a rotation, the previous secret signs too for this long.
pub const PREVIOUS_SECRET_FOR: Duration = Duration::from_secs(24 * 3600);
/// A webhook whose messages have all failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);
/// How far back a replay may reach.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
/// The waits after each failed attempt; after the last, the delivery is `failed`.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// What a message tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    ConnectionCreated,
    ConnectionMoved,
    ConnectionRemoved,
    RewardCreated,
    RewardUpdated,
    CodeExhausted,
    UserBanned,
    JobFinished,
    PayoutFinished,
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::ConnectionCreated,
        EventType::ConnectionMoved,
        EventType::ConnectionRemoved,
        EventType::RewardCreated,
        EventType::RewardUpdated,
        EventType::CodeExhausted,
        EventType::UserBanned,
        EventType::JobFinished,
        EventType::PayoutFinished,
        EventType::WebhookTest,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::ConnectionCreated => "connection.created",
            EventType::ConnectionMoved => "connection.moved",
            EventType::ConnectionRemoved => "connection.removed",
            EventType::RewardCreated => "reward.created",
            EventType::RewardUpdated => "reward.updated",
            EventType::CodeExhausted => "code.exhausted",
            EventType::UserBanned => "user.banned",
            EventType::JobFinished => "job.finished",
            EventType::PayoutFinished => "payout.finished",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The event types a webhook takes: known types, each once, in the order given; `*` among
/// them takes every type, and is all that is kept.
pub fn subscription(raw: &[String]) -> Result<Vec<String>, &'static str> {
    if raw.is_empty() {
        return Err("events lists at least one event type, or \"*\"");
    }
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        if t != "*" && EventType::parse(t).is_none() {
            return Err("events holds an unknown event type");
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    if out.iter().any(|t| t == "*") {
        return Ok(vec!["*".into()]);
    }
    Ok(out)
}

/// Whether a webhook subscribed to `events` gets messages of type `t`. A test message goes to
/// the webhook it was asked for, whatever it subscribed to.
pub fn subscribed(events: &[String], t: EventType) -> bool {
    t == EventType::WebhookTest || events.iter().any(|e| e == "*" || e == t.as_str())
}

/// A message id, the same for a change however often the stream delivers it: the change's
/// commit time first (so ids sort by time), then a digest of what identifies the change.
pub fn message_id(commit_ms: u64, identity: &str) -> String {
    let digest = Sha256::digest(identity.as_bytes());
    let mut out = format!("msg_{commit_ms:011x}");
    for b in &digest[..10] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The part of a message id that identifies its change (after its time).
pub fn message_digest(t: EventType, identity: &str) -> String {
    message_id(0, &format!("{}|{identity}", t.as_str()))[15..].to_owned()
}

/// The smallest message id at or after `ms`: where a listing since then starts.
pub fn message_id_floor(ms: u64) -> String {
    format!("msg_{ms:011x}")
}

/// Whether `s` has the form of a message id.
pub fn is_message_id(s: &str) -> bool {
    s.len() == 35
        && s.starts_with("msg_")
        && s[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A new secret from 32 random bytes: `whsec_` and their base64.
pub fn secret_of(bytes: &[u8; 32]) -> String {
    format!("whsec_{}", B64.encode(bytes))
}

/// The key bytes of a secret; None if it is not one.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    B64.decode(secret.strip_prefix("whsec_")?).ok()
}

/// `v1,` and the base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes a key of any length; this arm is never taken.
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per secret still in use, space-separated.
pub fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|k| signature(k, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The wait before the next attempt once `attempts` have failed; None: no more attempts.
pub fn next_wait(attempts: u32, schedule: &[Duration]) -> Option<Duration> {
    let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
    schedule.get(i).copied()
}

/// What an attempt's answer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The endpoint is gone: the webhook is disabled at once.
    Gone,
    Failed,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        _ => Outcome::Failed,
    }
}

/// What a change of a member's referrer tells: from `old` to `new` (None: no referrer).
pub fn connection_change(old: Option<&str>, new: Option<&str>) -> Option<EventType> {
    match (old, new) {
        (None, Some(_)) => Some(EventType::ConnectionCreated),
        (Some(a), Some(b)) if a != b => Some(EventType::ConnectionMoved),
        (Some(_), None) => Some(EventType::ConnectionRemoved),
        _ => None,
    }
}

/// Whether a capped counter just reached its cap.
pub fn just_filled(cap: Option<u64>, before: u64, after: u64) -> bool {
    cap.is_some_and(|c| c > 0 && before < c && after >= c)
}

/// The body of a message: `{"type", "timestamp", "data"}`.
pub fn body(t: EventType, timestamp: &str, data: serde_json::Value) -> String {
    serde_json::json!({ "type": t.as_str(), "timestamp": timestamp, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn subscriptions() {
        let s = |v: &[&str]| subscription(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["*"]).unwrap(), vec!["*"]);
        assert!(s(&[]).is_err());
        assert_eq!(s(&["*", "reward.created"]).unwrap(), vec!["*"]);
        assert_eq!(s(&["*", "*"]).unwrap(), vec!["*"]);
        assert!(s(&["*", "reward.made"]).is_err());
        assert!(s(&["reward.made"]).is_err());
        assert_eq!(
            s(&["reward.created", "reward.created"]).unwrap(),
            vec!["reward.created"]
        );
        let only = vec!["reward.created".to_string()];
        assert!(subscribed(&only, EventType::RewardCreated));
        assert!(!subscribed(&only, EventType::RewardUpdated));
        assert!(subscribed(&only, EventType::WebhookTest));
        assert!(subscribed(&["*".into()], EventType::JobFinished));
    }

    #[test]
    fn message_ids_are_stable_and_sort_by_time() {
        let a = message_id(1_700_000_000_000, "x");
        assert_eq!(a, message_id(1_700_000_000_000, "x"));
        assert_ne!(a, message_id(1_700_000_000_000, "y"));
        assert!(is_message_id(&a));
        assert!(message_id(1_700_000_000_001, "a") > message_id(1_700_000_000_000, "z"));
        assert!(message_id_floor(1_700_000_000_000) <= a);
        assert!(!is_message_id("msg_zz"));
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(
            signature_header(&[key.clone(), key], "i", 1, "b")
                .split(' ')
                .count(),
            2
        );
    }

    #[test]
    fn secrets_round_trip() {
        let s = secret_of(&[7; 32]);
        assert!(s.starts_with("whsec_"));
        assert_eq!(secret_key(&s).unwrap(), vec![7; 32]);
        assert!(secret_key("nope").is_none());
    }

    #[test]
    fn connection_changes() {
        use EventType::*;
        assert_eq!(connection_change(None, Some("a")), Some(ConnectionCreated));
        assert_eq!(
            connection_change(Some("a"), Some("b")),
            Some(ConnectionMoved)
        );
        assert_eq!(connection_change(Some("a"), None), Some(ConnectionRemoved));
        assert_eq!(connection_change(Some("a"), Some("a")), None);
        assert_eq!(connection_change(None, None), None);
        assert!(just_filled(Some(3), 2, 3));
        assert!(!just_filled(Some(3), 3, 3));
        assert!(!just_filled(None, 2, 3));
        assert!(!just_filled(Some(0), 0, 1));
    }

    #[test]
    fn the_schedule_then_failed() {
        assert_eq!(next_wait(1, &RETRY_SCHEDULE), Some(Duration::from_secs(5)));
        assert_eq!(
            next_wait(7, &RETRY_SCHEDULE),
            Some(Duration::from_secs(36000))
        );
        assert_eq!(next_wait(8, &RETRY_SCHEDULE), None);
        assert_eq!(next_wait(0, &RETRY_SCHEDULE), None);
        assert_eq!(outcome(Some(204)), Outcome::Delivered);
        assert_eq!(outcome(Some(410)), Outcome::Gone);
        assert_eq!(outcome(Some(500)), Outcome::Failed);
        assert_eq!(outcome(None), Outcome::Failed);
    }
}
