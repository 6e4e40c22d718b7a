//! Network API keys: bearer tokens, stored as SHA-256 hashes.

pub mod deso;

use lambda_http::http::StatusCode;
use lambda_http::Request;
use sha2::{Digest, Sha256};

use crate::http::ApiError;
use crate::store::api_keys::{AuthFailure, KeyProbe};

/// Keys are random 32-byte secrets, so a plain SHA-256 is enough to store them safely.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new key: "rk_" and 32 random bytes in base58.
pub fn generate_key() -> Result<String, getrandom::Error> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)?;
    Ok(format!("rk_{}", bs58::encode(raw).into_string()))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// The key item to read for this request's bearer token.
pub fn probe(req: &Request) -> Result<KeyProbe, ApiError> {
    let header = req
        .headers()
        .get("authorization")
        .ok_or_else(|| unauthorized("missing API key: send 'Authorization: Bearer <key>'"))?;
    let value = header
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not readable text"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer <key>'"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > 512 {
        return Err(unauthorized(
            "the Authorization header must be 'Bearer <key>'",
        ));
    }
    Ok(KeyProbe::of_hash(&hash_key(token)))
}

pub fn refused(f: AuthFailure) -> ApiError {
    match f {
        AuthFailure::UnknownKey => unauthorized("unknown API key"),
        AuthFailure::OtherNetwork => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this API key belongs to another network",
        ),
    }
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
