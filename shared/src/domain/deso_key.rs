//! DeSo public keys: base58check text of a 33-byte secp256k1 key, of one DeSo network.

use super::DomainError;

/// Prefixes of DeSo's base58check public keys (mainnet `BC1YL...`, testnet `tBC...`).
pub const DESO_MAINNET_PREFIX: [u8; 3] = [0xcd, 0x14, 0x00];
pub const DESO_TESTNET_PREFIX: [u8; 3] = [0x11, 0xc2, 0x00];

/// The DeSo network whose keys a deployment serves. One private key is one user: the other
/// network's text for the same key is refused, never taken as a second user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DesoNetwork {
    #[default]
    Mainnet,
    Testnet,
}

impl DesoNetwork {
    pub fn prefix(self) -> [u8; 3] {
        match self {
            DesoNetwork::Mainnet => DESO_MAINNET_PREFIX,
            DesoNetwork::Testnet => DESO_TESTNET_PREFIX,
        }
    }

    /// How the text of this network's keys begins.
    pub fn text_prefix(self) -> &'static str {
        match self {
            DesoNetwork::Mainnet => "BC1YL",
            DesoNetwork::Testnet => "tBC",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DesoNetwork::Mainnet => "mainnet",
            DesoNetwork::Testnet => "testnet",
        }
    }

    fn of_prefix(p: &[u8]) -> Option<DesoNetwork> {
        [DesoNetwork::Mainnet, DesoNetwork::Testnet]
            .into_iter()
            .find(|n| n.prefix() == p)
    }
}

impl std::str::FromStr for DesoNetwork {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mainnet" => Ok(DesoNetwork::Mainnet),
            "testnet" => Ok(DesoNetwork::Testnet),
            _ => Err("must be mainnet or testnet".into()),
        }
    }
}

/// A DeSo public key in base58check: 3-byte prefix, 33-byte compressed key, checksum. Its
/// text is the canonical one of its network, so equal keys have equal text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DesoPublicKey {
    text: String,
    key: [u8; 33],
}

impl DesoPublicKey {
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The 33 bytes of the compressed secp256k1 key.
    pub fn key_bytes(&self) -> &[u8; 33] {
        &self.key
    }

    /// The canonical text of `key` on `network`.
    pub fn from_key_bytes(key: [u8; 33], network: DesoNetwork) -> DesoPublicKey {
        let mut payload = network.prefix().to_vec();
        payload.extend_from_slice(&key);
        DesoPublicKey {
            text: bs58::encode(payload).with_check().into_string(),
            key,
        }
    }

    /// The public key of a 32-byte secret seed, when the seed is a valid secret.
    pub fn of_seed(seed: &[u8; 32], network: DesoNetwork) -> Option<DesoPublicKey> {
        let sk = k256::ecdsa::SigningKey::from_slice(seed).ok()?;
        let point = sk.verifying_key().to_encoded_point(true);
        let key: [u8; 33] = point.as_bytes().try_into().ok()?;
        Some(DesoPublicKey::from_key_bytes(key, network))
    }

    /// A key from a request: it must be of the network this deployment serves.
    pub fn parse(s: &str, network: DesoNetwork) -> Result<Self, DomainError> {
        let (found, key) = decode_key(s)?;
        if found != network {
            return Err(DomainError::invalid(
                "invalid_user",
                &format!(
                    "invalid DeSo public key: this service takes DeSo {} keys, which start with {}; \
                     this one is a {} key",
                    network.name(),
                    network.text_prefix(),
                    found.name()
                ),
            ));
        }
        Ok(Self::from_key_bytes(key, network))
    }

    /// A key the store wrote: it was checked when it came in.
    pub fn from_stored(s: &str) -> Result<Self, DomainError> {
        let (network, key) = decode_key(s)?;
        Ok(Self::from_key_bytes(key, network))
    }
}

fn decode_key(s: &str) -> Result<(DesoNetwork, [u8; 33]), DomainError> {
    let bad = |why: &str| {
        DomainError::invalid("invalid_user", &format!("invalid DeSo public key: {why}"))
    };
    if s.len() > 64 {
        return Err(bad("too long"));
    }
    let bytes = bs58::decode(s)
        .with_check(None)
        .into_vec()
        .map_err(|e| match e {
            bs58::decode::Error::InvalidChecksum { .. } => bad("checksum mismatch"),
            _ => bad("not base58check"),
        })?;
    if bytes.len() != 36 {
        return Err(bad("expected a 3-byte prefix and a 33-byte key"));
    }
    let (prefix, key) = bytes.split_at(3);
    let network = DesoNetwork::of_prefix(prefix).ok_or_else(|| bad("unknown network prefix"))?;
    if key[0] != 0x02 && key[0] != 0x03 {
        return Err(bad("not a compressed secp256k1 key"));
    }
    let mut k = [0u8; 33];
    k.copy_from_slice(key);
    Ok((network, k))
}
