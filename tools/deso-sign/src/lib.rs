//! Signing DeSo JWTs the way DeSo's SDK does: for tests, benches and the CLI. The functions
//! only verify tokens, so none of them links this.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use k256::ecdsa::signature::Signer;
use k256::ecdsa::{Signature, SigningKey};
use shared::domain::ids::DesoNetwork;
use shared::domain::DesoPublicKey;

/// The DeSo public key (base58check) of a signing key on `network`.
pub fn public_key_on(sk: &SigningKey, network: DesoNetwork) -> String {
    let point = sk.verifying_key().to_encoded_point(true);
    let mut key = [0u8; 33];
    key.copy_from_slice(point.as_bytes());
    DesoPublicKey::from_key_bytes(key, network)
        .as_str()
        .to_owned()
}

/// The DeSo mainnet public key of a signing key.
pub fn public_key(sk: &SigningKey) -> String {
    public_key_on(sk, DesoNetwork::Mainnet)
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
