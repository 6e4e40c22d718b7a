//! DeSo credentials: a JWT signed ES256-style with the user's secp256k1 key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use k256::ecdsa::signature::Verifier;
use k256::ecdsa::{Signature, VerifyingKey};

use crate::domain::DesoPublicKey;

/// How far past `exp` a token is still accepted.
pub const EXP_LEEWAY_SECS: u64 = 30;
const MAX_JWT_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("JWT is malformed: {0}")]
    Malformed(&'static str),
    #[error("JWT algorithm must be ES256")]
    Algorithm,
    #[error("JWT signature does not verify against the public key")]
    BadSignature,
    #[error("JWT has expired")]
    Expired,
    #[error("JWTs of derived keys are not supported: sign with the owner key")]
    DerivedKey,
}

fn part(p: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(p.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed("a part is not base64url"))
}

/// Verifies `token` against `key` at `now_secs`. High-S signatures are normalised first:
/// DeSo's verifier accepts both forms, k256 only low-S.
pub fn verify_jwt(token: &str, key: &DesoPublicKey, now_secs: u64) -> Result<(), JwtError> {
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("expected three dot-separated parts"));
    };
    let header: serde_json::Value =
        serde_json::from_slice(&part(h)?).map_err(|_| JwtError::Malformed("header is not JSON"))?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("ES256") {
        return Err(JwtError::Algorithm);
    }
    let payload: serde_json::Value = serde_json::from_slice(&part(p)?)
        .map_err(|_| JwtError::Malformed("payload is not JSON"))?;
    let Some(claims) = payload.as_object() else {
        return Err(JwtError::Malformed("payload is not a JSON object"));
    };
    let sig = part(s)?;
    let sig = Signature::from_slice(&sig)
        .map_err(|_| JwtError::Malformed("signature is not 64 bytes r||s"))?;
    let sig = sig.normalize_s().unwrap_or(sig);
    let vk = VerifyingKey::from_sec1_bytes(key.key_bytes()).map_err(|_| JwtError::BadSignature)?;
    let signed = &token[..h.len() + 1 + p.len()];
    vk.verify(signed.as_bytes(), &sig)
        .map_err(|_| JwtError::BadSignature)?;
    // Claims are read only once the signature holds.
    if claims.contains_key("derivedPublicKeyBase58Check") {
        return Err(JwtError::DerivedKey);
    }
    if let Some(exp) = claims.get("exp") {
        let exp = exp
            .as_f64()
            .ok_or(JwtError::Malformed("exp is not a number"))?;
        if (now_secs as f64) > exp + EXP_LEEWAY_SECS as f64 {
            return Err(JwtError::Expired);
        }
    }
    Ok(())
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Test and tooling support: sign a JWT the way DeSo's SDK does.
pub mod sign {
    use super::*;
    use k256::ecdsa::signature::Signer;
    use k256::ecdsa::SigningKey;

    /// A DeSo mainnet public key (base58check) of a signing key.
    pub fn public_key(sk: &SigningKey) -> String {
        let point = sk.verifying_key().to_encoded_point(true);
        let mut payload = crate::domain::ids::DESO_MAINNET_PREFIX.to_vec();
        payload.extend_from_slice(point.as_bytes());
        bs58::encode(payload).with_check().into_string()
    }

    /// `header.payload.signature` with the given claims, low-S like DeSo's SDK.
    pub fn jwt(sk: &SigningKey, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig: Signature = sk.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// A JWT valid for 30 minutes from `now`, as `getSignedJWT` makes them.
    pub fn session_jwt(sk: &SigningKey, now: u64) -> String {
        jwt(
            sk,
            &serde_json::json!({"alg": "ES256", "typ": "JWT"}),
            &serde_json::json!({"iat": now, "exp": now + 30 * 60}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::sign::*;
    use super::*;
    use k256::ecdsa::SigningKey;
    use serde_json::json;

    fn key(sk: &SigningKey) -> DesoPublicKey {
        DesoPublicKey::try_from(public_key(sk).as_str()).unwrap()
    }

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn valid_tokens_verify() {
        let sk = signing_key(7);
        let t = session_jwt(&sk, NOW);
        assert_eq!(verify_jwt(&t, &key(&sk), NOW), Ok(()));
        // within the leeway after exp, then not
        assert_eq!(verify_jwt(&t, &key(&sk), NOW + 30 * 60 + 30), Ok(()));
        assert_eq!(
            verify_jwt(&t, &key(&sk), NOW + 30 * 60 + 31),
            Err(JwtError::Expired)
        );
        // no exp: accepted
        let t = jwt(
            &sk,
            &json!({"alg": "ES256", "typ": "JWT"}),
            &json!({"iat": NOW}),
        );
        assert_eq!(verify_jwt(&t, &key(&sk), NOW + 1_000_000), Ok(()));
    }

    #[test]
    fn another_key_or_a_tampered_token_fails() {
        let sk = signing_key(7);
        let other = signing_key(8);
        let t = session_jwt(&sk, NOW);
        assert_eq!(
            verify_jwt(&t, &key(&other), NOW),
            Err(JwtError::BadSignature)
        );
        let parts: Vec<&str> = t.split('.').collect();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(json!({"iat": NOW, "exp": NOW + 999_999}).to_string());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(
            verify_jwt(&forged, &key(&sk), NOW),
            Err(JwtError::BadSignature)
        );
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.!!.!!",
            &format!("{}.{}.AAAA", parts[0], parts[1]),
        ] {
            assert!(
                matches!(verify_jwt(bad, &key(&sk), NOW), Err(JwtError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn alg_none_and_others_are_refused() {
        let sk = signing_key(7);
        for alg in [json!("none"), json!("HS256"), json!("ES256K"), json!(null)] {
            let t = jwt(
                &sk,
                &json!({"alg": alg, "typ": "JWT"}),
                &json!({"iat": NOW}),
            );
            assert_eq!(
                verify_jwt(&t, &key(&sk), NOW),
                Err(JwtError::Algorithm),
                "{alg}"
            );
        }
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iat":1}"#)
        );
        assert_eq!(
            verify_jwt(&unsigned, &key(&sk), NOW),
            Err(JwtError::Algorithm)
        );
    }

    #[test]
    fn high_s_signatures_are_accepted() {
        let sk = signing_key(9);
        let t = session_jwt(&sk, NOW);
        let (input, sig) = t.rsplit_once('.').unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r, -*s.as_ref()).unwrap();
        assert!(
            high.normalize_s().is_some(),
            "the flipped signature is high-S"
        );
        let t_high = format!("{input}.{}", URL_SAFE_NO_PAD.encode(high.to_bytes()));
        assert_eq!(verify_jwt(&t_high, &key(&sk), NOW), Ok(()));
    }

    #[test]
    fn derived_key_claims_are_refused() {
        let sk = signing_key(7);
        let t = jwt(
            &sk,
            &json!({"alg": "ES256", "typ": "JWT"}),
            &json!({"iat": NOW, "derivedPublicKeyBase58Check": public_key(&signing_key(3))}),
        );
        assert_eq!(verify_jwt(&t, &key(&sk), NOW), Err(JwtError::DerivedKey));
    }

    /// Made by deso-protocol 3.4.1's getSignedJWT (scripts/deso-jwt.mjs) with seed 0x11 * 32.
    #[test]
    fn tokens_of_deso_s_sdk_verify() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/deso-sdk-jwt.json")).unwrap();
        let k = DesoPublicKey::try_from(fixture["publicKey"].as_str().unwrap()).unwrap();
        let t = fixture["jwt"].as_str().unwrap();
        let iat = fixture["iat"].as_u64().unwrap();
        assert_eq!(verify_jwt(t, &k, iat + 10), Ok(()));
        assert_eq!(verify_jwt(t, &k, iat + 31 * 60), Err(JwtError::Expired));
        assert_eq!(
            public_key(&signing_key(0x11)),
            fixture["publicKey"].as_str().unwrap()
        );
    }
}
