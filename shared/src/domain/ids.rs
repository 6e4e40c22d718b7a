//! Validated identifiers. Past the API edge no raw string stands for an id.

use std::fmt;

use super::DomainError;

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

macro_rules! slug_id {
    ($name:ident, $what:literal) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<&str> for $name {
            type Error = DomainError;
            fn try_from(s: &str) -> Result<Self, DomainError> {
                if is_slug(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(DomainError::invalid(
                        concat!("invalid_", $what),
                        concat!(
                            $what,
                            " must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'"
                        ),
                    ))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(NetworkId, "network_id");
slug_id!(ProgramId, "program_id");

/// An email address, trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl TryFrom<&str> for Email {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
        let norm = s.trim().to_lowercase();
        let bad = || {
            DomainError::invalid(
                "invalid_user",
                "user must be an email address or a DeSo public key (base58check)",
            )
        };
        if norm.len() > 254 || norm.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            &norm,
            email_address::Options::default().without_display_text(),
        )
        .map_err(|_| bad())?;
        // A deliverable address has a dotted domain; "a@localhost" is almost always a typo.
        if !parsed.domain().contains('.') || parsed.domain().starts_with('[') {
            return Err(bad());
        }
        Ok(Email(norm))
    }
}

/// Prefixes of DeSo's base58check public keys (mainnet `BC1YL...`, testnet `tBC...`).
pub const DESO_MAINNET_PREFIX: [u8; 3] = [0xcd, 0x14, 0x00];
pub const DESO_TESTNET_PREFIX: [u8; 3] = [0x11, 0xc2, 0x00];

/// A DeSo public key in base58check: 3-byte prefix, 33-byte compressed key, checksum.
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
}

impl TryFrom<&str> for DesoPublicKey {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
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
        if prefix != DESO_MAINNET_PREFIX && prefix != DESO_TESTNET_PREFIX {
            return Err(bad("unknown network prefix"));
        }
        if key[0] != 0x02 && key[0] != 0x03 {
            return Err(bad("not a compressed secp256k1 key"));
        }
        let mut k = [0u8; 33];
        k.copy_from_slice(key);
        Ok(DesoPublicKey {
            text: s.to_owned(),
            key: k,
        })
    }
}

/// A user of a network: an email address or a DeSo public key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserId {
    Email(Email),
    Deso(DesoPublicKey),
}

impl UserId {
    pub fn as_str(&self) -> &str {
        match self {
            UserId::Email(e) => &e.0,
            UserId::Deso(k) => k.as_str(),
        }
    }
    pub fn deso_key(&self) -> Option<&DesoPublicKey> {
        match self {
            UserId::Deso(k) => Some(k),
            UserId::Email(_) => None,
        }
    }
}

impl TryFrom<&str> for UserId {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
        if s.contains('@') {
            Email::try_from(s).map(UserId::Email)
        } else if s.trim().is_empty() {
            Err(DomainError::invalid(
                "invalid_user",
                "user must be an email address or a DeSo public key (base58check)",
            ))
        } else {
            DesoPublicKey::try_from(s.trim()).map(UserId::Deso)
        }
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A referral code: 8 characters of the base58 alphabet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferralCode(String);

pub const CODE_LEN: usize = 8;

/// The base58 alphabet (Bitcoin's), which DeSo uses too.
pub const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

impl ReferralCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh random code. Uniqueness is enforced by the store on write.
    pub fn generate() -> Result<Self, DomainError> {
        let alphabet = BASE58;
        let mut raw = [0u8; CODE_LEN];
        getrandom::fill(&mut raw).map_err(|_| DomainError::Internal("no entropy"))?;
        // 58 does not divide 256; reject the top values so every character is equally likely.
        let mut out = String::with_capacity(CODE_LEN);
        let mut buf = [0u8; 1];
        for b in raw {
            let mut v = b;
            while v >= 232 {
                getrandom::fill(&mut buf).map_err(|_| DomainError::Internal("no entropy"))?;
                v = buf[0];
            }
            out.push(alphabet[(v % 58) as usize] as char);
        }
        Ok(ReferralCode(out))
    }
}

impl TryFrom<&str> for ReferralCode {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
        let alphabet = BASE58;
        if s.len() == CODE_LEN && s.bytes().all(|b| alphabet.contains(&b)) {
            Ok(ReferralCode(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "invalid_code",
                "a referral code is 8 characters of the base58 alphabet",
            ))
        }
    }
}

impl fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A depth in the referral graph: 1 is the direct referrer or referee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Level(u8);

pub const MAX_LEVELS: u8 = 10;

impl Level {
    pub fn new(n: u8) -> Option<Level> {
        (1..=MAX_LEVELS).contains(&n).then_some(Level(n))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mainnet key built from a fixed 33-byte compressed point.
    pub fn sample_deso_key() -> String {
        let mut payload = DESO_MAINNET_PREFIX.to_vec();
        payload.push(0x02);
        payload.extend_from_slice(&[7u8; 32]);
        bs58::encode(payload).with_check().into_string()
    }

    #[test]
    fn slugs() {
        assert!(NetworkId::try_from("demo").is_ok());
        assert!(NetworkId::try_from("a-b_C9").is_ok());
        assert!(NetworkId::try_from("").is_err());
        assert!(NetworkId::try_from("a b").is_err());
        assert!(NetworkId::try_from("a#b").is_err());
        assert!(ProgramId::try_from(&"x".repeat(64)[..]).is_ok());
        assert!(ProgramId::try_from(&"x".repeat(65)[..]).is_err());
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let u = UserId::try_from("  Alice@Example.COM ").unwrap();
        assert_eq!(u.as_str(), "alice@example.com");
        assert!(UserId::try_from("not-an-email@").is_err());
        assert!(UserId::try_from("a@b").is_err());
        assert!(UserId::try_from("a b@example.com").is_err());
        assert!(UserId::try_from("@example.com").is_err());
        assert!(UserId::try_from("").is_err());
        assert!(UserId::try_from(&format!("{}@example.com", "a".repeat(250))[..]).is_err());
    }

    #[test]
    fn deso_keys_checked() {
        let k = sample_deso_key();
        assert!(k.starts_with("BC1YL"), "{k}");
        let u = UserId::try_from(k.as_str()).unwrap();
        assert_eq!(u.as_str(), k);
        assert_eq!(u.deso_key().unwrap().key_bytes()[0], 0x02);
        // flip one character: the checksum no longer matches
        let mut bad: Vec<char> = k.chars().collect();
        let i = bad.len() - 3;
        bad[i] = if bad[i] == 'a' { 'b' } else { 'a' };
        let bad: String = bad.into_iter().collect();
        let err = UserId::try_from(bad.as_str()).unwrap_err();
        assert!(err.to_string().contains("DeSo"), "{err}");
        // right checksum, wrong prefix
        let mut payload = vec![1u8, 2, 3, 0x02];
        payload.extend_from_slice(&[7u8; 32]);
        let wrong = bs58::encode(payload).with_check().into_string();
        assert!(UserId::try_from(wrong.as_str()).is_err());
        assert!(UserId::try_from("BC1YLnotakey").is_err());
    }

    #[test]
    fn codes() {
        for _ in 0..200 {
            let c = ReferralCode::generate().unwrap();
            assert_eq!(c.as_str().len(), 8);
            assert!(ReferralCode::try_from(c.as_str()).is_ok());
        }
        assert!(ReferralCode::try_from("0OIl0OIl").is_err());
        assert!(ReferralCode::try_from("abc").is_err());
        assert!(ReferralCode::try_from("abcdefghj").is_err());
    }

    #[test]
    fn levels() {
        assert!(Level::new(0).is_none());
        assert_eq!(Level::new(1).unwrap().get(), 1);
        assert!(Level::new(10).is_some());
        assert!(Level::new(11).is_none());
    }
}
