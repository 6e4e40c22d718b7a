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

/// `ms` since the epoch, in RFC 3339 UTC with milliseconds, up to the year 9999.
pub fn rfc3339_ms(ms: u64) -> String {
    let t = i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An RFC 3339 time in ms since the epoch, a time before 1970 as 0; None when unreadable.
pub fn parse_rfc3339_ms(raw: &str) -> Option<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(raw).ok()?;
    Some(t.timestamp_millis().max(0) as u64)
}

pub fn rfc3339(ns: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_nanos(ns)).to_string()
}
