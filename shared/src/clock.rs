//! Wall-clock time in the two forms the table keeps: ns for ordering, RFC 3339 for people.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Now {
    pub ns: u64,
    pub rfc3339: String,
}

pub fn now() -> Now {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let ns = d.as_nanos() as u64;
    Now {
        ns,
        rfc3339: rfc3339(ns),
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    now().ns / 1_000_000
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    now().ns / 1_000_000_000
}

/// `ms` since the epoch, in RFC 3339 with milliseconds.
pub fn rfc3339_ms(ms: u64) -> String {
    rfc3339(ms.saturating_mul(1_000_000))
}

/// An RFC 3339 time in ms since the epoch; None when unreadable or before 1970.
pub fn parse_rfc3339_ms(raw: &str) -> Option<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(raw).ok()?;
    u64::try_from(t.timestamp_millis()).ok()
}

pub fn rfc3339(ns: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_nanos(ns)).to_string()
}
