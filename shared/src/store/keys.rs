//! Every key string of the table is built here, and only here.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | API key | `KEY#<sha256>` | `KEY` |
//! | network | `NET#<net>` | `NET` |
//! | program | `NET#<net>` | `PROG#<prog>` |
//! | user profile | `USER#<net>#<user>` | `PROFILE` |
//! | membership | `MEM#<net>#<prog>#<user>` | `MEM` |
//! | downline edge | `DOWN#<net>#<prog>#<ancestor>` | `<level:02>#<ns:020>#<user>` |
//! | code | `CODE#<code>` | `CODE` (GSI1: `UCODES#<net>#<user>` / `<prog>#<code>`) |
//! | default-code pointer | `DEFCODE#<net>#<prog>#<user>` | `DEFCODE` |
//! | network code index | `NETCODES#<net>` | `<created ns:020>#<code>` |
//! | referral through a code | `CODEREF#<code>` | `<ns:020>#<user>` |
//! | DeSo settings | `DESO#<net>` | `SETTINGS` |
//! | country bonus | `DESO#<net>` | `COUNTRY#<alpha3>` |
//! | jumio-begin record | `JUMIO#<net>#<user>` | `JUMIO` |
//! | one-time credit | `CREDIT#<net>#<user>` | `CREDIT` |
//! | ledger entry | `LEDGER#<net>#<beneficiary>` | `<ns:020>#<referee>#<role>` |

use crate::domain::{NetworkId, ProgramId, ReferralCode, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";

pub type Key = (String, String);

pub fn api_key(hash_hex: &str) -> Key {
    (format!("KEY#{hash_hex}"), "KEY".into())
}

pub fn network(net: &NetworkId) -> Key {
    (format!("NET#{net}"), "NET".into())
}

pub const PROGRAM_PREFIX: &str = "PROG#";

pub fn program(net: &NetworkId, prog: &ProgramId) -> Key {
    (format!("NET#{net}"), format!("{PROGRAM_PREFIX}{prog}"))
}

pub fn programs_partition(net: &NetworkId) -> String {
    format!("NET#{net}")
}

pub fn profile(net: &NetworkId, user: &UserId) -> Key {
    (format!("USER#{net}#{user}"), "PROFILE".into())
}

pub fn membership(net: &NetworkId, prog: &ProgramId, user: &UserId) -> Key {
    (format!("MEM#{net}#{prog}#{user}"), "MEM".into())
}

pub fn downline_partition(net: &NetworkId, prog: &ProgramId, ancestor: &UserId) -> String {
    format!("DOWN#{net}#{prog}#{ancestor}")
}

pub fn level_prefix(level: u8) -> String {
    format!("{level:02}#")
}

pub fn downline_edge(
    net: &NetworkId,
    prog: &ProgramId,
    ancestor: &UserId,
    level: u8,
    connected_ns: u128,
    user: &UserId,
) -> Key {
    (
        downline_partition(net, prog, ancestor),
        format!("{level:02}#{connected_ns:020}#{user}"),
    )
}

/// Splits an edge sort key into (level, ns, user); None if it is not one.
pub fn parse_edge_sk(sk: &str) -> Option<(u8, u128, &str)> {
    let (lvl, rest) = sk.split_once('#')?;
    let (ns, user) = rest.split_once('#')?;
    if lvl.len() != 2 || ns.len() != 20 || user.is_empty() {
        return None;
    }
    Some((lvl.parse().ok()?, ns.parse().ok()?, user))
}

pub fn code(code: &ReferralCode) -> Key {
    (format!("CODE#{code}"), "CODE".into())
}

pub fn user_codes_partition(net: &NetworkId, user: &UserId) -> String {
    format!("UCODES#{net}#{user}")
}

pub fn user_codes_sort(prog: &ProgramId, code: &ReferralCode) -> String {
    format!("{prog}#{code}")
}

pub fn default_code(net: &NetworkId, prog: &ProgramId, user: &UserId) -> Key {
    (format!("DEFCODE#{net}#{prog}#{user}"), "DEFCODE".into())
}

pub fn code_referral(code: &ReferralCode, ns: u64, user: &UserId) -> Key {
    (format!("CODEREF#{code}"), format!("{ns:020}#{user}"))
}

pub fn code_referrals_partition(code: &ReferralCode) -> String {
    format!("CODEREF#{code}")
}

/// Every code of a network, in creation order: the CSV download reads this partition.
pub fn network_code(net: &NetworkId, created_ns: u64, code: &ReferralCode) -> Key {
    (
        format!("NETCODES#{net}"),
        format!("{created_ns:020}#{code}"),
    )
}

pub fn network_codes_partition(net: &NetworkId) -> String {
    format!("NETCODES#{net}")
}

pub fn deso_settings(net: &NetworkId) -> Key {
    (format!("DESO#{net}"), "SETTINGS".into())
}

pub const COUNTRY_PREFIX: &str = "COUNTRY#";

pub fn deso_country(net: &NetworkId, alpha3: &str) -> Key {
    (format!("DESO#{net}"), format!("{COUNTRY_PREFIX}{alpha3}"))
}

pub fn deso_partition(net: &NetworkId) -> String {
    format!("DESO#{net}")
}

pub fn jumio(net: &NetworkId, user: &UserId) -> Key {
    (format!("JUMIO#{net}#{user}"), "JUMIO".into())
}

pub fn credit(net: &NetworkId, user: &UserId) -> Key {
    (format!("CREDIT#{net}#{user}"), "CREDIT".into())
}

pub fn ledger(net: &NetworkId, beneficiary: &UserId, ns: u64, referee: &UserId, role: &str) -> Key {
    (
        format!("LEDGER#{net}#{beneficiary}"),
        format!("{ns:020}#{referee}#{role}"),
    )
}

pub fn ledger_partition(net: &NetworkId, beneficiary: &UserId) -> String {
    format!("LEDGER#{net}#{beneficiary}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_keys_round_trip() {
        let net = NetworkId::try_from("n").unwrap();
        let prog = ProgramId::try_from("p").unwrap();
        let a = UserId::from_stored("a@x.io").unwrap();
        let b = UserId::from_stored("b#c@x.io").unwrap();
        let (_, sk) = downline_edge(&net, &prog, &a, 3, 42, &b);
        assert_eq!(parse_edge_sk(&sk), Some((3, 42, "b#c@x.io")));
        assert!(sk.starts_with(&level_prefix(3)));
        assert_eq!(parse_edge_sk("3#1#x"), None);
        assert_eq!(parse_edge_sk("03#abc#x"), None);
    }
}
