//! Validated identifiers. Past the API edge no raw string stands for an id.

use std::fmt;

pub use super::deso_key::{DesoNetwork, DesoPublicKey, DESO_MAINNET_PREFIX, DESO_TESTNET_PREFIX};
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

/// An email address: trimmed, ASCII letters lower-cased, nothing else folded.
///
/// Text that NFKC normalisation would change is refused, so a lookalike (the Kelvin sign
/// U+212A for `K`, fullwidth letters) can never name another user.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Email {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
        let bad = |why: &str| {
            DomainError::invalid(
                "invalid_user",
                &format!("user must be an email address or a DeSo public key (base58check): {why}"),
            )
        };
        let t = s.trim();
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("too long, or has spaces or control characters"));
        }
        if !icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().is_normalized(t) {
            return Err(bad(
                "it changes under Unicode NFKC normalisation (a lookalike character)",
            ));
        }
        let norm = t.to_ascii_lowercase();
        let parsed = email_address::EmailAddress::parse_with_options(
            &norm,
            email_address::Options::default().without_display_text(),
        )
        .map_err(|_| bad("not an email address"))?;
        // A deliverable address has a dotted domain; "a@localhost" is almost always a typo.
        let domain = parsed.domain();
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(bad("the domain needs a dot"));
        }
        idna::domain_to_ascii_strict(domain).map_err(|_| bad("the domain is not valid IDNA"))?;
        Ok(Email(norm))
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

    /// A user named in a request: an email, or a DeSo key of `network`.
    pub fn parse(s: &str, network: DesoNetwork) -> Result<Self, DomainError> {
        Self::classify(s, |k| DesoPublicKey::parse(k, network))
    }

    /// A user id the store wrote.
    pub fn from_stored(s: &str) -> Result<Self, DomainError> {
        Self::classify(s, DesoPublicKey::from_stored)
    }

    fn classify(
        s: &str,
        key: impl FnOnce(&str) -> Result<DesoPublicKey, DomainError>,
    ) -> Result<Self, DomainError> {
        if s.contains('@') {
            Email::try_from(s).map(UserId::Email)
        } else if s.trim().is_empty() {
            Err(DomainError::invalid(
                "invalid_user",
                "user must be an email address or a DeSo public key (base58check)",
            ))
        } else {
            key(s.trim()).map(UserId::Deso)
        }
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A referral code: 8 characters of the base58 alphabet (a referral hash, unique in the whole
/// table, which the DeSo routes read too), or a vanity code of 3 to 32 characters of
/// `[A-Za-z0-9_-]`, unique in its network: that one carries its network, which its keys hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferralCode {
    text: String,
    /// The network of a vanity code not of the hash form, once known.
    scope: Option<String>,
}

pub const CODE_LEN: usize = 8;
/// The longest vanity code.
pub const VANITY_MAX: usize = 32;
const VANITY_MIN: usize = 3;

/// The base58 alphabet (Bitcoin's), which DeSo uses too.
pub const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Words no vanity code may be, whatever their letter case: one per line, `#` comments.
const RESERVED: &str = include_str!("../../data/reserved-codes.txt");

fn is_hash(s: &str) -> bool {
    s.len() == CODE_LEN && s.bytes().all(|b| BASE58.contains(&b))
}

fn is_vanity(s: &str) -> bool {
    (VANITY_MIN..=VANITY_MAX).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl ReferralCode {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A fresh random code. Uniqueness is enforced by the store on write.
    pub fn generate() -> Result<Self, DomainError> {
        let alphabet = BASE58;
        let no_entropy = |_| DomainError::Internal("no entropy");
        let raw: [u8; CODE_LEN] = crate::random::bytes().map_err(no_entropy)?;
        // 58 does not divide 256; reject the top values so every character is equally likely.
        let mut out = String::with_capacity(CODE_LEN);
        for b in raw {
            let mut v = b;
            while v >= 232 {
                v = crate::random::bytes::<1>().map_err(no_entropy)?[0];
            }
            out.push(alphabet[(v % 58) as usize] as char);
        }
        Ok(ReferralCode::plain(out))
    }

    fn plain(text: String) -> Self {
        ReferralCode { text, scope: None }
    }

    /// The code as named in network `net`: a vanity code is that network's.
    pub fn in_network(&self, net: &NetworkId) -> Self {
        ReferralCode {
            text: self.text.clone(),
            scope: (!is_hash(&self.text)).then(|| net.as_str().to_owned()),
        }
    }

    /// What its keys hold: the text, and for a vanity code `@` and its network.
    pub fn key_token(&self) -> String {
        match &self.scope {
            Some(net) => format!("{}@{net}", self.text),
            None => self.text.clone(),
        }
    }

    /// A code back from a key token.
    pub fn from_token(token: &str) -> Result<Self, DomainError> {
        match token.split_once('@') {
            Some((text, net)) => {
                let net = NetworkId::try_from(net)?;
                Ok(ReferralCode::try_from(text)?.in_network(&net))
            }
            None => ReferralCode::try_from(token),
        }
    }

    /// A referral hash only: what the DeSo routes read.
    pub fn hash(s: &str) -> Result<Self, DomainError> {
        if is_hash(s) {
            Ok(ReferralCode::plain(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "invalid_hash",
                "a referral hash is 8 characters of the base58 alphabet",
            ))
        }
    }

    /// A code a client chose, in the vanity form (see `is_reserved`).
    pub fn vanity(s: &str) -> Result<Self, DomainError> {
        if is_vanity(s) {
            Ok(ReferralCode::plain(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "invalid_code",
                "a vanity code is 3 to 32 characters of letters, digits, '_' and '-'",
            ))
        }
    }

    /// Whether it is on the reserved list, whatever its letter case: no client may choose it.
    pub fn is_reserved(&self) -> bool {
        let folded = self.folded();
        RESERVED
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .any(|w| w.eq_ignore_ascii_case(&folded))
    }

    /// Whether the DeSo routes can read it: 8 characters of base58.
    pub fn is_hash(&self) -> bool {
        is_hash(&self.text)
    }

    /// The form codes are compared in within a network: ASCII lower case.
    pub fn folded(&self) -> String {
        self.text.to_ascii_lowercase()
    }
}

/// Any code: a hash or a vanity code (reserved words included: a stored code is read as is).
impl TryFrom<&str> for ReferralCode {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
        if is_hash(s) || is_vanity(s) {
            Ok(ReferralCode::plain(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "invalid_code",
                "a referral code is 3 to 32 characters of letters, digits, '_' and '-'",
            ))
        }
    }
}

impl fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A depth in the referral graph: 1 is the direct referrer or referee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Level(u8);

impl Level {
    /// How deep the graph is kept: uplines, edges and counts, 10 levels.
    pub const MAX: Level = Level(10);

    pub fn new(n: u8) -> Option<Level> {
        (1..=Level::MAX.0).contains(&n).then_some(Level(n))
    }
    pub const fn get(self) -> u8 {
        self.0
    }
    /// As a length or an index bound.
    pub const fn depth(self) -> usize {
        self.0 as usize
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

    const NET: DesoNetwork = DesoNetwork::Mainnet;

    fn user(s: &str) -> Result<UserId, DomainError> {
        UserId::parse(s, NET)
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let u = user("  Alice@Example.COM ").unwrap();
        assert_eq!(u.as_str(), "alice@example.com");
        assert!(user("not-an-email@").is_err());
        assert!(user("a@b").is_err());
        assert!(user("a b@example.com").is_err());
        assert!(user("@example.com").is_err());
        assert!(user("").is_err());
        assert!(user(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn lookalike_emails_never_fold_onto_others() {
        // The Kelvin sign lower-cases to 'k' under full Unicode rules: refused, not folded.
        let kelvin = user("\u{212a}@example.com").unwrap_err();
        assert!(kelvin.to_string().contains("NFKC"), "{kelvin}");
        // fullwidth letters and ligatures change under NFKC too
        assert!(user("\u{ff41}@example.com").is_err());
        assert!(user("\u{fb01}x@example.com").is_err());
        // non-ASCII letters keep their case: only ASCII is folded
        let u = user("J\u{c4}@example.com").unwrap();
        assert_eq!(u.as_str(), "j\u{c4}@example.com");
        // the domain must be valid IDNA
        assert!(user("a@exa_mple.com").is_err());
        assert!(user("a@-example.com").is_err());
        assert!(user("a@b\u{fc}cher.de").is_ok());
    }

    #[test]
    fn deso_keys_checked() {
        let k = sample_deso_key();
        assert!(k.starts_with("BC1YL"), "{k}");
        let u = user(k.as_str()).unwrap();
        assert_eq!(u.as_str(), k);
        assert_eq!(u.deso_key().unwrap().key_bytes()[0], 0x02);
        // flip one character: the checksum no longer matches
        let mut bad: Vec<char> = k.chars().collect();
        let i = bad.len() - 3;
        bad[i] = if bad[i] == 'a' { 'b' } else { 'a' };
        let bad: String = bad.into_iter().collect();
        let err = user(bad.as_str()).unwrap_err();
        assert!(err.to_string().contains("DeSo"), "{err}");
        // right checksum, wrong prefix
        let mut payload = vec![1u8, 2, 3, 0x02];
        payload.extend_from_slice(&[7u8; 32]);
        let wrong = bs58::encode(payload).with_check().into_string();
        assert!(user(wrong.as_str()).is_err());
        assert!(user("BC1YLnotakey").is_err());
    }

    #[test]
    fn one_key_is_one_user_on_one_network() {
        let main = sample_deso_key();
        let key = *DesoPublicKey::parse(&main, NET).unwrap().key_bytes();
        let test = DesoPublicKey::from_key_bytes(key, DesoNetwork::Testnet);
        assert!(test.as_str().starts_with("tBC"), "{}", test.as_str());
        // the testnet text of a mainnet deployment's user is refused, naming the prefix
        let e = user(test.as_str()).unwrap_err().to_string();
        assert!(e.contains("BC1YL") && e.contains("mainnet"), "{e}");
        // and the other way round
        assert!(UserId::parse(&main, DesoNetwork::Testnet).is_err());
        assert!(UserId::parse(test.as_str(), DesoNetwork::Testnet).is_ok());
        // stored ids read back whatever their network
        assert_eq!(
            UserId::from_stored(test.as_str()).unwrap().as_str(),
            test.as_str()
        );
        assert_eq!("testnet".parse::<DesoNetwork>(), Ok(DesoNetwork::Testnet));
        assert!("devnet".parse::<DesoNetwork>().is_err());
    }

    #[test]
    fn codes() {
        for _ in 0..200 {
            let c = ReferralCode::generate().unwrap();
            assert_eq!(c.as_str().len(), 8);
            assert!(ReferralCode::try_from(c.as_str()).is_ok());
        }
        assert!(ReferralCode::hash("0OIl0OIl").is_err());
        assert!(ReferralCode::hash("abc").is_err());
        assert!(ReferralCode::hash("abcdefghj").is_err());
        // vanity codes: any code, but not a hash
        let v = ReferralCode::vanity("SUMMER-alice_2").unwrap();
        assert!(!v.is_hash());
        assert_eq!(v.folded(), "summer-alice_2");
        assert!(ReferralCode::vanity("Summer12").unwrap().is_hash());
        for bad in ["ab", "a b c", "héllo", "x#y", &"a".repeat(33), ""] {
            assert!(ReferralCode::vanity(bad).is_err(), "{bad}");
            assert!(ReferralCode::try_from(bad).is_err(), "{bad}");
        }
        assert!(ReferralCode::try_from(&*"a".repeat(32)).is_ok());
        // reserved words, whatever their case; stored codes read back whatever they are
        for w in ["admin", "API", "Null"] {
            assert!(ReferralCode::vanity(w).unwrap().is_reserved(), "{w}");
        }
        assert!(!ReferralCode::vanity("admins").unwrap().is_reserved());
        // a vanity code's keys hold its network; a hash's do not
        let net = NetworkId::try_from("n1").unwrap();
        let v = ReferralCode::vanity("Spring").unwrap().in_network(&net);
        assert_eq!(v.key_token(), "Spring@n1");
        assert_eq!(v.to_string(), "Spring");
        assert_eq!(ReferralCode::from_token("Spring@n1").unwrap(), v);
        let h = ReferralCode::vanity("Summer12").unwrap().in_network(&net);
        assert_eq!(h.key_token(), "Summer12");
        assert!(ReferralCode::from_token("Spring@n#1").is_err());
    }

    #[test]
    fn levels() {
        assert!(Level::new(0).is_none());
        assert_eq!(Level::new(1).unwrap().get(), 1);
        assert!(Level::new(10).is_some());
        assert!(Level::new(11).is_none());
    }
}
