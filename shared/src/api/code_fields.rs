//! The fields the Connections API sets on a code: its chosen text, cap and expiry.

use crate::domain::ReferralCode;
use crate::http::ApiError;

const MAX_REFERRALS: u64 = 1_000_000_000;

/// A chosen code: well formed (400) and not reserved (409), whatever its letter case.
pub(crate) fn vanity(raw: &str) -> Result<ReferralCode, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_code",
            "code must not be empty; leave it out to have one drawn",
        ));
    }
    let code = ReferralCode::vanity(raw)?;
    if code.is_reserved() {
        return Err(ApiError::conflict(
            "code_reserved",
            format!("{raw} is reserved; choose another code"),
        ));
    }
    Ok(code)
}

pub(crate) fn max_referrals(v: u64) -> Result<u64, ApiError> {
    if v > MAX_REFERRALS {
        return Err(ApiError::bad_request(
            "invalid_max_referrals",
            "max_referrals must be 0 (unlimited) to 1000000000",
        ));
    }
    Ok(v)
}

/// `expires_at` in ms: RFC 3339; `future` also wants it after `now_ms`.
pub(crate) fn expires_ms(raw: &str, now_ms: u64, future: bool) -> Result<u64, ApiError> {
    let bad = |m: &str| ApiError::bad_request("invalid_expires_at", m.to_owned());
    let ms = crate::clock::parse_rfc3339_ms(raw)
        .ok_or_else(|| bad("expires_at must be an RFC 3339 time"))?;
    if future && ms <= now_ms {
        return Err(bad("expires_at must be in the future"));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry() {
        let now = 1_700_000_000_000;
        assert_eq!(
            expires_ms("2023-11-14T22:13:21Z", now, true).unwrap(),
            now + 1000
        );
        assert!(expires_ms("2023-11-14T22:13:20Z", now, true).is_err());
        assert!(expires_ms("2023-11-14T22:13:20Z", now, false).is_ok());
        assert!(expires_ms("tomorrow", now, true).is_err());
        // any year RFC 3339 writes: one before 1970 has long passed
        assert_eq!(
            expires_ms("0358-04-28T22:04:18.3-07:11", now, false).unwrap(),
            0
        );
        let far = expires_ms("9999-12-31T23:59:59.999Z", now, true).unwrap();
        assert_eq!(crate::clock::rfc3339_ms(far), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn chosen_codes() {
        assert_eq!(vanity("Summer-Alice").unwrap().as_str(), "Summer-Alice");
        assert_eq!(vanity("").unwrap_err().code, "invalid_code");
        assert_eq!(vanity("no way").unwrap_err().code, "invalid_code");
        assert_eq!(vanity("ADMIN").unwrap_err().code, "code_reserved");
        assert!(max_referrals(1_000_000_001).is_err());
    }
}
