//! DeSo keys and tokens for trying the routes locally.

use crate::USAGE;

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// `deso-jwt <seed hex> [ttl secs]`: the key of a seed and a JWT signed with it.
pub fn jwt(args: &[&str]) -> Result<(), String> {
    let (seed, ttl) = match args {
        [seed] => (*seed, 1800),
        [seed, t] => (
            *seed,
            t.parse::<u64>()
                .map_err(|_| "ttl must be a whole number of seconds")?,
        ),
        _ => return Err(USAGE.into()),
    };
    let bytes = decode_hex(seed).ok_or("the seed must be 64 hex characters")?;
    let sk = k256::ecdsa::SigningKey::from_slice(&bytes)
        .map_err(|_| "the seed is not a valid secp256k1 secret")?;
    let now = shared::clock::now_secs();
    let claims = if ttl == 0 {
        serde_json::json!({"iat": now})
    } else {
        serde_json::json!({"iat": now, "exp": now + ttl})
    };
    let jwt = deso_sign::jwt(
        &sk,
        &serde_json::json!({"alg": "ES256", "typ": "JWT"}),
        &claims,
    );
    // The key's text is the one of the network this stack serves.
    let network = match std::env::var("DESO_KEY_NETWORK") {
        Ok(v) => v.parse().map_err(|e| format!("DESO_KEY_NETWORK {e}"))?,
        Err(_) => shared::domain::ids::DesoNetwork::Mainnet,
    };
    let key = deso_sign::public_key_on(&sk, network);
    println!(
        "{}",
        serde_json::json!({"PublicKeyBase58Check": key, "JWT": jwt})
    );
    Ok(())
}
