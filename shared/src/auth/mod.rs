//! Network API keys: bearer tokens, stored as SHA-256 hashes.

pub mod deso;

use lambda_http::Request;
use sha2::{Digest, Sha256};

use crate::store::api_keys::{AuthFailure, KeyProbe};

/// Keys are random 32-byte secrets, so a plain SHA-256 is enough to store them safely.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new key: "rk_" and 32 random bytes in base58.
pub fn generate_key() -> Result<String, crate::random::NoEntropy> {
    Ok(format!("rk_{}", crate::random::base58::<32>()?))
}

/// Why a request's network API key is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("missing API key: send 'Authorization: Bearer <key>'")]
    Missing,
    #[error("the Authorization header is not readable text")]
    Unreadable,
    #[error("the Authorization header must be 'Bearer <key>'")]
    Malformed,
    #[error("unknown API key")]
    Unknown,
    #[error("this API key belongs to another network")]
    OtherNetwork,
}

impl From<AuthFailure> for KeyRefusal {
    fn from(f: AuthFailure) -> KeyRefusal {
        match f {
            AuthFailure::UnknownKey => KeyRefusal::Unknown,
            AuthFailure::OtherNetwork => KeyRefusal::OtherNetwork,
        }
    }
}

/// The key item to read for this request's bearer token.
pub fn probe(req: &Request) -> Result<KeyProbe, KeyRefusal> {
    let header = req
        .headers()
        .get("authorization")
        .ok_or(KeyRefusal::Missing)?;
    let value = header.to_str().map_err(|_| KeyRefusal::Unreadable)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(KeyRefusal::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > 512 {
        return Err(KeyRefusal::Malformed);
    }
    Ok(KeyProbe::of_hash(&hash_key(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_stably_and_differ() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("rk_"));
        assert_eq!(hash_key(&a), hash_key(&a));
        assert_eq!(hash_key(&a).len(), 64);
        assert!(!hash_key(&a).contains(&a));
    }
}
