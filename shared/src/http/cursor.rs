//! Opaque list cursors, bound to the listing that issued them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ApiError;

#[derive(Serialize, Deserialize)]
struct CursorBody {
    /// Sort key to resume after.
    k: String,
    /// Binds the cursor to the listing it came from.
    b: String,
}

fn binding(scope: &str) -> String {
    let d = Sha256::digest(scope.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// An opaque cursor for resuming `scope` (the listing's identity) after sort key `sk`.
pub fn encode_cursor(scope: &str, sk: &str) -> String {
    let body = CursorBody {
        k: sk.to_owned(),
        b: binding(scope),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
}

/// The sort key inside a cursor; 400 when it was altered or comes from another listing.
pub fn decode_cursor(
    scope: &str,
    cursor: &str,
    valid_sk: impl Fn(&str) -> bool,
) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_cursor",
            "cursor is invalid: pass next_cursor back unchanged",
        )
    };
    if cursor.len() > 8192 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if body.b != binding(scope) || !valid_sk(&body.k) {
        return Err(bad());
    }
    Ok(body.k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let c = encode_cursor("scope-a", "03#00000000000000000001#a@x.io");
        assert_eq!(
            decode_cursor("scope-a", &c, |_| true).unwrap(),
            "03#00000000000000000001#a@x.io"
        );
        assert_eq!(
            decode_cursor("scope-b", &c, |_| true).unwrap_err().code,
            "invalid_cursor"
        );
        assert!(decode_cursor("scope-a", &c, |_| false).is_err());
        assert!(decode_cursor("scope-a", "!!!", |_| true).is_err());
        let mut t = c.clone();
        t.insert(3, 'x');
        assert!(decode_cursor("scope-a", &t, |_| true).is_err());
        let forged = URL_SAFE_NO_PAD.encode(br#"{"k":"03#x","b":"0000000000000000"}"#);
        assert!(decode_cursor("scope-a", &forged, |_| true).is_err());
    }
}
