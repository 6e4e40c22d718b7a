//! DeSo credentials: a JWT signed ES256-style with the user's secp256k1 key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use k256::ecdsa::signature::Verifier;
use k256::ecdsa::{Signature, VerifyingKey};

use crate::clock;
use crate::domain::ids::DesoNetwork;
use crate::domain::DesoPublicKey;

/// How far past `exp`, or before `nbf` and `iat`, a token is still accepted.
pub const EXP_LEEWAY_SECS: u64 = 30;
const MAX_JWT_LEN: usize = 4096;

/// What a route asks of a token's times besides its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JwtPolicy {
    /// Admin tokens must expire, and within this many seconds of `iat`.
    pub max_lifetime_secs: Option<u64>,
}

impl JwtPolicy {
    /// User routes: DeSo's SDK clients may send a token without `exp`.
    pub const USER: JwtPolicy = JwtPolicy {
        max_lifetime_secs: None,
    };

    pub fn admin(max_lifetime_secs: u64) -> JwtPolicy {
        JwtPolicy {
            max_lifetime_secs: Some(max_lifetime_secs),
        }
    }
}

/// Who may call the admin routes, and how their tokens must look: the deployment's settings,
/// borrowed from its config.
#[derive(Clone, Copy, Debug)]
pub struct AdminPolicy<'a> {
    pub network: DesoNetwork,
    pub max_lifetime_secs: u64,
    pub admins: &'a [DesoPublicKey],
    pub super_admins: &'a [DesoPublicKey],
}

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
    #[error("JWT is not valid yet (nbf or iat is in the future)")]
    NotYetValid,
    #[error("admin JWTs need numeric iat and exp claims")]
    MissingLifetime,
    #[error("admin JWTs may live at most {0} s (exp - iat)")]
    TooLong(u64),
    #[error("JWTs of derived keys are not supported: sign with the owner key")]
    DerivedKey,
}

fn part(p: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(p.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed("a part is not base64url"))
}

/// Why a DeSo credential is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The key itself is malformed or of the other network: bad input, not bad credentials.
    #[error("{field}: {message}")]
    BadKey {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Jwt(#[from] JwtError),
    #[error(
        "the key is not an admin: it is in neither ADMIN_PUBLIC_KEYS nor SUPER_ADMIN_PUBLIC_KEYS"
    )]
    NotAdmin,
    #[error("this route needs a super admin: the key is not in SUPER_ADMIN_PUBLIC_KEYS")]
    NotSuperAdmin,
}

/// Which allowlist an admin route needs. A super admin passes every check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    SuperAdmin,
}

/// A DeSo key named by request field `field`, of the network this deployment serves.
pub fn parse_key(
    field: &'static str,
    raw: &str,
    network: DesoNetwork,
) -> Result<DesoPublicKey, AuthError> {
    DesoPublicKey::parse(raw.trim(), network).map_err(|e| AuthError::BadKey {
        field,
        message: e.to_string(),
    })
}

/// The user a credential names, once its JWT verifies.
pub fn authenticate_user(
    network: DesoNetwork,
    field: &'static str,
    raw_key: &str,
    jwt: &str,
) -> Result<DesoPublicKey, AuthError> {
    let key = parse_key(field, raw_key, network)?;
    verify_jwt(jwt, &key, clock::now_secs(), JwtPolicy::USER)?;
    Ok(key)
}

/// An admin whose JWT verifies under the admin policy and whose key is on `role`'s allowlist.
pub fn authorize_admin(
    policy: &AdminPolicy<'_>,
    field: &'static str,
    raw_key: &str,
    jwt: &str,
    role: Role,
) -> Result<DesoPublicKey, AuthError> {
    let key = parse_key(field, raw_key, policy.network)?;
    let times = JwtPolicy::admin(policy.max_lifetime_secs);
    verify_jwt(jwt, &key, clock::now_secs(), times)?;
    let is_super = policy.super_admins.contains(&key);
    let is_admin = is_super || policy.admins.contains(&key);
    match role {
        Role::SuperAdmin if !is_super => Err(AuthError::NotSuperAdmin),
        Role::Admin if !is_admin => Err(AuthError::NotAdmin),
        _ => Ok(key),
    }
}

/// A numeric claim, when present.
fn time_claim(
    claims: &serde_json::Map<String, serde_json::Value>,
    name: &'static str,
) -> Result<Option<f64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or(JwtError::Malformed(name)),
    }
}

/// Verifies `token` against `key` at `now_secs` under `policy`. High-S signatures are
/// normalised first: DeSo's verifier accepts both forms, k256 only low-S.
pub fn verify_jwt(
    token: &str,
    key: &DesoPublicKey,
    now_secs: u64,
    policy: JwtPolicy,
) -> Result<(), JwtError> {
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
    let now = now_secs as f64;
    let leeway = EXP_LEEWAY_SECS as f64;
    let exp = time_claim(claims, "exp")?;
    if let Some(nbf) = time_claim(claims, "nbf")? {
        if now + leeway < nbf {
            return Err(JwtError::NotYetValid);
        }
    }
    if let Some(exp) = exp {
        if now > exp + leeway {
            return Err(JwtError::Expired);
        }
    }
    if let Some(max) = policy.max_lifetime_secs {
        let (Some(exp), Some(iat)) = (exp, time_claim(claims, "iat")?) else {
            return Err(JwtError::MissingLifetime);
        };
        if iat > now + leeway {
            return Err(JwtError::NotYetValid);
        }
        if exp - iat > max as f64 {
            return Err(JwtError::TooLong(max));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use deso_sign::*;
    use k256::ecdsa::SigningKey;
    use serde_json::json;

    fn key(sk: &SigningKey) -> DesoPublicKey {
        DesoPublicKey::parse(public_key(sk).as_str(), DesoNetwork::Mainnet).unwrap()
    }

    fn v(t: &str, k: &DesoPublicKey, now: u64) -> Result<(), JwtError> {
        verify_jwt(t, k, now, JwtPolicy::USER)
    }

    fn admin(t: &str, k: &DesoPublicKey, now: u64) -> Result<(), JwtError> {
        verify_jwt(t, k, now, JwtPolicy::admin(3600))
    }

    fn es256(sk: &SigningKey, claims: serde_json::Value) -> String {
        jwt(sk, &json!({"alg": "ES256", "typ": "JWT"}), &claims)
    }

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn valid_tokens_verify() {
        let sk = signing_key(7);
        let t = session_jwt(&sk, NOW);
        assert_eq!(v(&t, &key(&sk), NOW), Ok(()));
        // within the leeway after exp, then not
        assert_eq!(v(&t, &key(&sk), NOW + 30 * 60 + 30), Ok(()));
        assert_eq!(v(&t, &key(&sk), NOW + 30 * 60 + 31), Err(JwtError::Expired));
        // no exp: accepted
        let t = jwt(
            &sk,
            &json!({"alg": "ES256", "typ": "JWT"}),
            &json!({"iat": NOW}),
        );
        assert_eq!(v(&t, &key(&sk), NOW + 1_000_000), Ok(()));
    }

    #[test]
    fn another_key_or_a_tampered_token_fails() {
        let sk = signing_key(7);
        let other = signing_key(8);
        let t = session_jwt(&sk, NOW);
        assert_eq!(v(&t, &key(&other), NOW), Err(JwtError::BadSignature));
        let parts: Vec<&str> = t.split('.').collect();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(json!({"iat": NOW, "exp": NOW + 999_999}).to_string());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(v(&forged, &key(&sk), NOW), Err(JwtError::BadSignature));
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.!!.!!",
            &format!("{}.{}.AAAA", parts[0], parts[1]),
        ] {
            assert!(
                matches!(v(bad, &key(&sk), NOW), Err(JwtError::Malformed(_))),
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
            assert_eq!(v(&t, &key(&sk), NOW), Err(JwtError::Algorithm), "{alg}");
        }
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iat":1}"#)
        );
        assert_eq!(v(&unsigned, &key(&sk), NOW), Err(JwtError::Algorithm));
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
        assert_eq!(v(&t_high, &key(&sk), NOW), Ok(()));
    }

    #[test]
    fn derived_key_claims_are_refused() {
        let sk = signing_key(7);
        let t = jwt(
            &sk,
            &json!({"alg": "ES256", "typ": "JWT"}),
            &json!({"iat": NOW, "derivedPublicKeyBase58Check": public_key(&signing_key(3))}),
        );
        assert_eq!(v(&t, &key(&sk), NOW), Err(JwtError::DerivedKey));
    }

    /// Made by deso-protocol 3.4.1's getSignedJWT (scripts/deso-jwt.mjs) with seed 0x11 * 32.
    #[test]
    fn tokens_of_deso_s_sdk_verify() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/deso-sdk-jwt.json")).unwrap();
        let k = DesoPublicKey::parse(fixture["publicKey"].as_str().unwrap(), DesoNetwork::Mainnet)
            .unwrap();
        let t = fixture["jwt"].as_str().unwrap();
        let iat = fixture["iat"].as_u64().unwrap();
        assert_eq!(v(t, &k, iat + 10), Ok(()));
        assert_eq!(v(t, &k, iat + 31 * 60), Err(JwtError::Expired));
        assert_eq!(
            public_key(&signing_key(0x11)),
            fixture["publicKey"].as_str().unwrap()
        );
    }

    #[test]
    fn nbf_is_honoured_on_every_route() {
        let sk = signing_key(7);
        let t = es256(&sk, json!({"iat": NOW, "nbf": NOW + 100, "exp": NOW + 600}));
        assert_eq!(v(&t, &key(&sk), NOW), Err(JwtError::NotYetValid));
        assert_eq!(admin(&t, &key(&sk), NOW), Err(JwtError::NotYetValid));
        // within the leeway before nbf, then after it
        assert_eq!(v(&t, &key(&sk), NOW + 70), Ok(()));
        assert_eq!(admin(&t, &key(&sk), NOW + 100), Ok(()));
        let t = es256(&sk, json!({"iat": NOW, "nbf": "soon"}));
        assert!(matches!(v(&t, &key(&sk), NOW), Err(JwtError::Malformed(_))));
    }

    #[test]
    fn admin_tokens_must_expire_within_the_cap() {
        let sk = signing_key(7);
        let k = key(&sk);
        assert_eq!(admin(&session_jwt(&sk, NOW), &k, NOW), Ok(()));
        for claims in [
            json!({"iat": NOW}),
            json!({"exp": NOW + 60}),
            json!({"iat": NOW, "exp": "later"}),
        ] {
            let t = es256(&sk, claims.clone());
            assert!(admin(&t, &k, NOW).is_err(), "{claims}");
        }
        let t = es256(&sk, json!({"iat": NOW, "exp": NOW + 3601}));
        assert_eq!(admin(&t, &k, NOW), Err(JwtError::TooLong(3600)));
        let t = es256(&sk, json!({"iat": NOW, "exp": 1e308}));
        assert_eq!(admin(&t, &k, NOW), Err(JwtError::TooLong(3600)));
        // a token dated in the future cannot stretch its life past the cap
        let t = es256(&sk, json!({"iat": NOW + 10_000, "exp": NOW + 10_600}));
        assert_eq!(admin(&t, &k, NOW), Err(JwtError::NotYetValid));
        // user routes keep taking tokens without exp, as DeSo's SDK may send
        assert_eq!(
            v(&es256(&sk, json!({"iat": NOW})), &k, NOW + 999_999),
            Ok(())
        );
    }

    #[test]
    fn every_forgery_is_refused() {
        use base64::engine::general_purpose::STANDARD;
        let a = signing_key(7);
        let b = signing_key(8);
        let good = session_jwt(&a, NOW);
        let (h, rest) = good.split_once('.').unwrap();
        let (p, sig) = rest.split_once('.').unwrap();
        let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let claims = enc(json!({"iat": NOW, "exp": NOW + 600}));
        let with_alg =
            |alg: &str| format!("{}.{claims}.{sig}", enc(json!({"alg": alg, "typ": "JWT"})));
        // HMAC keyed with the public key: a classic confusion attack
        let hs_with_pubkey = {
            use hmac::Mac;
            let input = format!("{}.{claims}", enc(json!({"alg": "HS256", "typ": "JWT"})));
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key(&a).key_bytes()).unwrap();
            mac.update(input.as_bytes());
            let tag = mac.finalize().into_bytes();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
        };
        let n = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";
        let n_bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&n[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let r_eq_s_eq_n = [n_bytes.clone(), n_bytes].concat();
        let sig_bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let der = Signature::from_slice(&sig_bytes).unwrap().to_der();
        let forgeries: Vec<(&str, String)> = vec![
            ("alg none", format!("{}.{p}.", enc(json!({"alg": "none"})))),
            ("HS256", with_alg("HS256")),
            ("HS256 keyed with the public key", hs_with_pubkey),
            ("RS256", with_alg("RS256")),
            ("es256", with_alg("es256")),
            ("ES256K", with_alg("ES256K")),
            ("no signature", format!("{h}.{p}")),
            ("empty signature", format!("{h}.{p}.")),
            ("another key's token", session_jwt(&b, NOW)),
            (
                "derived key",
                es256(
                    &a,
                    json!({"iat": NOW, "derivedPublicKeyBase58Check": public_key(&b)}),
                ),
            ),
            (
                "standard base64",
                format!(
                    "{}.{}.{}",
                    STANDARD.encode(URL_SAFE_NO_PAD.decode(h).unwrap()),
                    p,
                    STANDARD.encode(&sig_bytes)
                ),
            ),
            ("two parts", format!("{h}.{p}")),
            ("four parts", format!("{good}.{sig}")),
            (
                "DER signature",
                format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(der.as_bytes())),
            ),
            (
                "zero signature",
                format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode([0u8; 64])),
            ),
            (
                "short signature",
                format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(&sig_bytes[..40])),
            ),
            (
                "r = s = n",
                format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(&r_eq_s_eq_n)),
            ),
            (
                "over 4096 characters",
                format!("{h}.{}.{sig}", "A".repeat(4100)),
            ),
        ];
        for (what, t) in forgeries {
            assert!(v(&t, &key(&a), NOW).is_err(), "{what}");
            assert!(admin(&t, &key(&a), NOW).is_err(), "admin: {what}");
        }
        // B's key does not verify A's token
        assert_eq!(v(&good, &key(&b), NOW), Err(JwtError::BadSignature));
    }
}
