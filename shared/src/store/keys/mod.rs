//! Every key string of the table is built here, and only here.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | API key | `KEY#<sha256>` | `KEY` |
//! | network | `NET#<net>` | `NET` |
//! | program | `NET#<net>` | `PROG#<prog>` |
//! | user profile | `USER#<net>#<user>` | `PROFILE` |
//! | membership | `MEM#<net>#<prog>#<user>` | `MEM` |
//! | downline edge | `DOWN#<net>#<prog>#<ancestor>#<s>` | `<level:02>#<ns:020>#<user>` |
//! | aggregated counts | `CNT#<net>#<prog>#<user>#<c>` | `CNT` |
//! | tree fence | `FENCE#<net>#<prog>#<root>#<k>` | `FENCE` |
//! | move job | `JOB#<net>#<id>` | `JOB` (GSI1 while running: `JOBS#running` / `<created>#<net>#<id>`) |
//! | member joined during a move | `JOBPEND#<id>#<s>` | `<ns:020>#<user>` |
//! | a move's frontier below ten levels | `JOBF#<id>#<band>` | `<user>` |
//! | edge the aggregator counted | `AGG#<net>#<prog>#<ancestor>#<s>` | the edge's SK |
//! | code | `CODE#<code>` | `CODE` (GSI1: `UCODES#<net>#<user>` / `<prog>#<code>`) |
//! | code counter shard | `CODESHARD#<code>#<k>` | `SHARD` |
//! | default-code pointer | `DEFCODE#<net>#<prog>#<user>` | `DEFCODE` |
//! | network code index | `NETCODES#<net>` | `<created ns:020>#<code>` |
//! | referral through a code | `CODEREF#<code>#<s>` | `<ns:020>#<user>` |
//! | DeSo settings | `DESO#<net>` | `SETTINGS` |
//! | country bonus | `DESO#<net>` | `COUNTRY#<alpha3>` |
//! | jumio-begin record | `JUMIO#<net>#<user>` | `JUMIO` |
//! | one-time credit | `CREDIT#<net>#<user>` | `CREDIT` |
//! | ledger entry | `LEDGER#<net>#<beneficiary>#<s>` | `<ns:020>#<referee>#<role>` |
//! | stream batch given up | `STREAMFAIL#<function>` | `<ms:013>#<first sequence number>` |
//! | repair progress | `REPAIR#state` | `REPAIR` |
//! | program rule | `NET#<net>` | `RULE#<prog>#<rule>` |
//! | event | `EVT#<net>#<event_id>` | `EVT` |
//! | reward | `RWD#<net>#<reward_id>` | `RWD` (GSI1 while payable: `UNPAID#<net>#<prog>#<s>` / `<approvable ns:020>#<reward_id>`) |
//! | a beneficiary's copy of a reward | `URWD#<net>#<user>#<s>` | `<newest-first ns:020>#<reward_id>` |
//! | a program's copy of a reward (the review queue) | `PRWD#<net>#<prog>#<s>` | `<created ns:020>#<reward_id>` |
//! | balance shard | `BAL#<net>#<user>#<c>` | `BAL` |
//! | payout | `PAY#<net>#<payout_id>` | `PAY` (`PAY#<net>` / `RUNNING` while one runs) |
//! | a payout's line | `PAYLINE#<net>#<payout_id>` | `<user>` |
//! | rewarded events of a referee under a rule | `RCNT#<net>#<prog>#<rule>#<referee>` | `RCNT` |
//! | webhook | `NET#<net>` | `WH#<webhook_id>` |
//! | a network's webhook count | `NET#<net>` | `WHCOUNT` |
//! | a webhook's secret (read by the signer only) | `WHSEC#<net>#<webhook_id>` | `WHSEC` |
//! | idempotency record (TTL `expires_at`) | `IDEM#<net>#<sha256 of the key>` | `IDEM` |
//! | a webhook's message | `WHMSG#<net>#<webhook_id>` | `<message_id>` (GSI1 while due: `WHDUE#<d>` / `<due ms:013>#<net>#<webhook_id>#<message_id>`) |
//!
//! A membership whose placement changed carries GSI2 keys `CHG#<hour>#<k>` /
//! `<ms:013>#<net>#<prog>#<user>`, and a reward's user copy when written or changed
//! `<ms:013>#<net>#<user>#<reward_id>`: what the repair rereads.
//!
//! `<s>` spreads a member's items by a hash of the member, `<k>` is the writer's shard lease
//! and `<c>` the aggregator batch's: see `domain::shards`.

use crate::domain::shards::{member_shard, EDGE_SHARDS};
use crate::domain::{NetworkId, ProgramId, ReferralCode, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// Epoch seconds after which DynamoDB's TTL may delete an item.
pub const EXPIRES_AT: &str = "expires_at";

pub type Key = (String, String);

mod prefix;
mod webhooks;
pub use prefix::{IndexPrefix, Prefix};
pub use webhooks::*;

pub fn api_key(hash_hex: &str) -> Key {
    (format!("{}{hash_hex}", Prefix::Key), "KEY".into())
}

pub fn idempotency(net: &NetworkId, key_hash_hex: &str) -> Key {
    (
        format!("{}{net}#{key_hash_hex}", Prefix::Idem),
        "IDEM".into(),
    )
}

pub fn network(net: &NetworkId) -> Key {
    (format!("{}{net}", Prefix::Net), "NET".into())
}

pub const PROGRAM_PREFIX: &str = "PROG#";

pub fn program(net: &NetworkId, prog: &ProgramId) -> Key {
    (
        format!("{}{net}", Prefix::Net),
        format!("{PROGRAM_PREFIX}{prog}"),
    )
}

pub fn programs_partition(net: &NetworkId) -> String {
    format!("{}{net}", Prefix::Net)
}

pub fn profile(net: &NetworkId, user: &UserId) -> Key {
    (format!("{}{net}#{user}", Prefix::User), "PROFILE".into())
}

pub fn membership(net: &NetworkId, prog: &ProgramId, user: &UserId) -> Key {
    (format!("{}{net}#{prog}#{user}", Prefix::Mem), "MEM".into())
}

/// One of the `EDGE_SHARDS` partitions of an ancestor's downline.
pub fn downline_partition(
    net: &NetworkId,
    prog: &ProgramId,
    ancestor: &UserId,
    shard: usize,
) -> String {
    format!("{}{net}#{prog}#{ancestor}#{shard}", Prefix::Down)
}

/// All partitions of an ancestor's downline.
pub fn downline_partitions(net: &NetworkId, prog: &ProgramId, ancestor: &UserId) -> Vec<String> {
    (0..EDGE_SHARDS)
        .map(|s| downline_partition(net, prog, ancestor, s))
        .collect()
}

pub fn level_prefix(level: u8) -> String {
    format!("{level:02}#")
}

pub fn downline_edge(
    net: &NetworkId,
    prog: &ProgramId,
    ancestor: &UserId,
    level: u8,
    connected_ns: u64,
    user: &UserId,
) -> Key {
    (
        downline_partition(net, prog, ancestor, member_shard(user)),
        format!("{level:02}#{connected_ns:020}#{user}"),
    )
}

/// Splits an edge sort key into (level, ns, user); None if it is not one.
pub fn parse_edge_sk(sk: &str) -> Option<(u8, u64, &str)> {
    let (lvl, rest) = sk.split_once('#')?;
    let (ns, user) = rest.split_once('#')?;
    if lvl.len() != 2 || ns.len() != 20 || user.is_empty() {
        return None;
    }
    Some((lvl.parse().ok()?, ns.parse().ok()?, user))
}

/// The (network, program, ancestor) of an edge partition key; None if it is not one. Ids
/// hold no `#`, and the user is what lies between the program and the shard.
pub fn parse_downline_pk(pk: &str) -> Option<(&str, &str, &str)> {
    let rest = Prefix::Down.strip(pk)?;
    let (net, rest) = rest.split_once('#')?;
    let (prog, rest) = rest.split_once('#')?;
    let (user, shard) = rest.rsplit_once('#')?;
    shard.parse::<usize>().ok()?;
    Some((net, prog, user))
}

pub fn counts(net: &NetworkId, prog: &ProgramId, user: &UserId, shard: usize) -> Key {
    (
        format!("{}{net}#{prog}#{user}#{shard}", Prefix::Cnt),
        "CNT".into(),
    )
}

pub fn fence(net: &NetworkId, prog: &ProgramId, root: &UserId, shard: usize) -> Key {
    (
        format!("{}{net}#{prog}#{root}#{shard}", Prefix::Fence),
        "FENCE".into(),
    )
}

pub fn job(net: &NetworkId, id: &str) -> Key {
    (format!("{}{net}#{id}", Prefix::Job), "JOB".into())
}

/// The GSI1 partition of the running jobs: few at a time, so one partition serves.
pub const RUNNING_JOBS: &str = "JOBS#running";

pub fn running_job_sort(created_at: &str, net: &NetworkId, id: &str) -> String {
    format!("{created_at}#{net}#{id}")
}

pub fn job_pending(id: &str, ns: u64, user: &UserId) -> Key {
    (
        job_pending_partition(id, member_shard(user)),
        format!("{ns:020}#{user}"),
    )
}

pub fn job_pending_partition(id: &str, shard: usize) -> String {
    format!("{}{id}#{shard}", Prefix::JobPend)
}

pub fn job_frontier(id: &str, band: u32, user: &UserId) -> Key {
    (job_frontier_partition(id, band), user.as_str().to_owned())
}

pub fn job_frontier_partition(id: &str, band: u32) -> String {
    format!("{}{id}#{band}", Prefix::JobF)
}

/// The aggregator's mark that it counted the edge `edge`: present exactly while the edge is
/// in the counts.
pub fn counted_edge(edge: &Key) -> Option<Key> {
    let rest = Prefix::Down.strip(&edge.0)?;
    Some((format!("{}{rest}", Prefix::Agg), edge.1.clone()))
}

/// The edge a counted mark stands for.
pub fn edge_of_counted(mark: &Key) -> Option<Key> {
    let rest = Prefix::Agg.strip(&mark.0)?;
    Some((format!("{}{rest}", Prefix::Down), mark.1.clone()))
}

/// All partitions of the marks of an ancestor's counted edges.
pub fn counted_partitions(net: &NetworkId, prog: &ProgramId, ancestor: &UserId) -> Vec<String> {
    (0..EDGE_SHARDS)
        .map(|s| format!("{}{net}#{prog}#{ancestor}#{s}", Prefix::Agg))
        .collect()
}

/// Shards of each hour's changed memberships: spreads the index's writes at any signup rate.
pub const CHANGE_SHARDS: usize = 8;

/// The GSI2 keys of a membership whose placement changed at `ms`.
pub fn changed_member(
    net: &NetworkId,
    prog: &ProgramId,
    user: &UserId,
    ms: u64,
) -> (String, String) {
    (
        changes_partition(ms / 3_600_000, member_shard(user) % CHANGE_SHARDS),
        changes_sort(ms, &format!("{net}#{prog}#{user}")),
    )
}

/// GSI2 keys of a reward copy written or changed at `ms`: the scheduled repair rereads it, as
/// it rereads memberships, to move an amount whose stream record was lost.
pub fn changed_reward(
    net: &NetworkId,
    user: &UserId,
    ms: u64,
    reward_id: &str,
) -> (String, String) {
    (
        changes_partition(ms / 3_600_000, member_shard(user) % CHANGE_SHARDS),
        changes_sort(ms, &format!("{net}#{user}#{reward_id}")),
    )
}

pub fn changes_partition(hour: u64, shard: usize) -> String {
    format!("{}{hour}#{shard}", IndexPrefix::Changes)
}

/// `<ms:013>#<rest>`: sorts a bucket by time; `rest` empty gives a bound.
pub fn changes_sort(ms: u64, rest: &str) -> String {
    format!("{ms:013}#{rest}")
}

pub fn stream_failure(function: &str, at_ms: u64, first_sequence: &str) -> Key {
    (
        format!("{}{function}", Prefix::StreamFail),
        format!("{at_ms:013}#{first_sequence}"),
    )
}

pub fn stream_failures_partition(function: &str) -> String {
    format!("{}{function}", Prefix::StreamFail)
}

pub fn repair_state() -> Key {
    (format!("{}state", Prefix::Repair), "REPAIR".into())
}

pub fn code(code: &ReferralCode) -> Key {
    (
        format!("{}{}", Prefix::Code, code.key_token()),
        "CODE".into(),
    )
}

/// A program's leaderboard of one measure (`referrals`, `rewards`) and period (`all`, a month).
pub fn board(net: &NetworkId, prog: &ProgramId, by: &str, period: &str) -> Key {
    (
        format!("{}{net}#{prog}", Prefix::Board),
        format!("{by}#{period}"),
    )
}

/// A member's reward cents in one program by status and month of creation, in one of
/// `COUNT_SHARDS` items: the rewards leaderboard's source.
pub fn reward_score(net: &NetworkId, prog: &ProgramId, user: &UserId, shard: usize) -> Key {
    (
        format!("{}{net}#{prog}#{user}#{shard}", Prefix::RScore),
        "RSCORE".into(),
    )
}

/// A chosen code's name in its network, in lower case: the code it names.
pub fn code_name(net: &NetworkId, code: &ReferralCode) -> Key {
    (
        format!("{}{net}#{}", Prefix::CodeName, code.folded()),
        "CNAME".into(),
    )
}

pub fn code_shard(code: &ReferralCode, shard: usize) -> Key {
    (
        format!("{}{}#{shard}", Prefix::CodeShard, code.key_token()),
        "SHARD".into(),
    )
}

pub fn user_codes_partition(net: &NetworkId, user: &UserId) -> String {
    format!("{}{net}#{user}", IndexPrefix::UserCodes)
}

pub fn user_codes_sort(prog: &ProgramId, code: &ReferralCode) -> String {
    format!("{prog}#{}", code.key_token())
}

pub fn default_code(net: &NetworkId, prog: &ProgramId, user: &UserId) -> Key {
    (
        format!("{}{net}#{prog}#{user}", Prefix::DefCode),
        "DEFCODE".into(),
    )
}

pub fn code_referral(code: &ReferralCode, ns: u64, user: &UserId) -> Key {
    (
        code_referrals_partition(code, member_shard(user)),
        format!("{ns:020}#{user}"),
    )
}

pub fn code_referrals_partition(code: &ReferralCode, shard: usize) -> String {
    format!("{}{}#{shard}", Prefix::CodeRef, code.key_token())
}

/// Every code of a network, in creation order: the CSV download reads this partition.
pub fn network_code(net: &NetworkId, created_ns: u64, code: &ReferralCode) -> Key {
    (
        network_codes_partition(net),
        format!("{created_ns:020}#{code}"),
    )
}

pub fn network_codes_partition(net: &NetworkId) -> String {
    format!("{}{net}", Prefix::NetCodes)
}

pub fn deso_settings(net: &NetworkId) -> Key {
    (format!("{}{net}", Prefix::Deso), "SETTINGS".into())
}

pub const COUNTRY_PREFIX: &str = "COUNTRY#";

pub fn deso_country(net: &NetworkId, alpha3: &str) -> Key {
    (
        format!("{}{net}", Prefix::Deso),
        format!("{COUNTRY_PREFIX}{alpha3}"),
    )
}

pub fn deso_partition(net: &NetworkId) -> String {
    format!("{}{net}", Prefix::Deso)
}

pub fn jumio(net: &NetworkId, user: &UserId) -> Key {
    (format!("{}{net}#{user}", Prefix::Jumio), "JUMIO".into())
}

pub fn credit(net: &NetworkId, user: &UserId) -> Key {
    (format!("{}{net}#{user}", Prefix::Credit), "CREDIT".into())
}

pub fn ledger(net: &NetworkId, beneficiary: &UserId, ns: u64, referee: &UserId, role: &str) -> Key {
    (
        ledger_partition(net, beneficiary, member_shard(referee)),
        format!("{ns:020}#{referee}#{role}"),
    )
}

pub fn ledger_partition(net: &NetworkId, beneficiary: &UserId, shard: usize) -> String {
    format!("{}{net}#{beneficiary}#{shard}", Prefix::Ledger)
}

pub const RULE_PREFIX: &str = "RULE#";

pub fn rule(net: &NetworkId, prog: &ProgramId, rule_id: &ProgramId) -> Key {
    (
        format!("{}{net}", Prefix::Net),
        format!("{RULE_PREFIX}{prog}#{rule_id}"),
    )
}

/// The sort-key prefix of a program's rules in the network's partition.
pub fn rules_prefix(prog: &ProgramId) -> String {
    format!("{RULE_PREFIX}{prog}#")
}

pub fn event(net: &NetworkId, event_id: &str) -> Key {
    (format!("{}{net}#{event_id}", Prefix::Evt), "EVT".into())
}

pub fn reward(net: &NetworkId, reward_id: &str) -> Key {
    (format!("{}{net}#{reward_id}", Prefix::Rwd), "RWD".into())
}

/// A beneficiary's copy of a reward, spread by its referee, newest first in each partition.
pub fn user_reward(
    net: &NetworkId,
    user: &UserId,
    referee: &UserId,
    created_ns: u64,
    reward_id: &str,
) -> Key {
    (
        user_rewards_partition(net, user, member_shard(referee)),
        format!("{:020}#{reward_id}", u64::MAX - created_ns),
    )
}

pub fn user_rewards_partition(net: &NetworkId, user: &UserId, shard: usize) -> String {
    format!("{}{net}#{user}#{shard}", Prefix::URwd)
}

pub fn user_rewards_partitions(net: &NetworkId, user: &UserId) -> Vec<String> {
    (0..EDGE_SHARDS)
        .map(|s| user_rewards_partition(net, user, s))
        .collect()
}

/// A program's copy of a reward, spread by its referee, oldest first: the review queue.
pub fn program_reward(
    net: &NetworkId,
    prog: &ProgramId,
    referee: &UserId,
    created_ns: u64,
    reward_id: &str,
) -> Key {
    (
        program_rewards_partition(net, prog, member_shard(referee)),
        format!("{created_ns:020}#{reward_id}"),
    )
}

pub fn program_rewards_partition(net: &NetworkId, prog: &ProgramId, shard: usize) -> String {
    format!("{}{net}#{prog}#{shard}", Prefix::PRwd)
}

pub fn program_rewards_partitions(net: &NetworkId, prog: &ProgramId) -> Vec<String> {
    (0..EDGE_SHARDS)
        .map(|s| program_rewards_partition(net, prog, s))
        .collect()
}

/// GSI1 keys of a payable reward: its program's unpaid rewards, by approvable time.
pub fn unpaid(
    net: &NetworkId,
    prog: &ProgramId,
    referee: &UserId,
    approvable_ns: u64,
    reward_id: &str,
) -> (String, String) {
    (
        unpaid_partition(net, prog, member_shard(referee)),
        format!("{approvable_ns:020}#{reward_id}"),
    )
}

pub fn unpaid_partition(net: &NetworkId, prog: &ProgramId, shard: usize) -> String {
    format!("{}{net}#{prog}#{shard}", IndexPrefix::Unpaid)
}

pub fn payout(net: &NetworkId, payout_id: &str) -> Key {
    (format!("{}{net}#{payout_id}", Prefix::Pay), "PAY".into())
}

/// The network's running-payout lock: one payout at a time.
pub fn payout_lock(net: &NetworkId) -> Key {
    (format!("{}{net}", Prefix::Pay), "RUNNING".into())
}

pub fn payout_line(net: &NetworkId, payout_id: &str, user: &UserId) -> Key {
    (
        payout_lines_partition(net, payout_id),
        user.as_str().to_owned(),
    )
}

pub fn payout_lines_partition(net: &NetworkId, payout_id: &str) -> String {
    format!("{}{net}#{payout_id}", Prefix::PayLine)
}

pub fn balance(net: &NetworkId, user: &UserId, shard: usize) -> Key {
    (format!("{}{net}#{user}#{shard}", Prefix::Bal), "BAL".into())
}

pub fn referee_rewards(net: &NetworkId, prog: &ProgramId, rule_id: &str, referee: &UserId) -> Key {
    (
        format!("{}{net}#{prog}#{rule_id}#{referee}", Prefix::RCnt),
        "RCNT".into(),
    )
}

/// (network, program, rest) of a membership's partition key: ids never hold '#', users may.
pub fn parse_membership_pk(pk: &str) -> Option<(&str, &str, &str)> {
    let rest = Prefix::Mem.strip(pk)?;
    let (net, rest) = rest.split_once('#')?;
    let (prog, user) = rest.split_once('#')?;
    Some((net, prog, user))
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
        let (pk, sk) = downline_edge(&net, &prog, &a, 3, 42, &b);
        assert_eq!(parse_edge_sk(&sk), Some((3, 42, "b#c@x.io")));
        assert!(sk.starts_with(&level_prefix(3)));
        assert_eq!(parse_edge_sk("3#1#x"), None);
        assert_eq!(parse_edge_sk("03#abc#x"), None);
        assert_eq!(parse_downline_pk(&pk), Some(("n", "p", "a@x.io")));
        assert!(downline_partitions(&net, &prog, &a).contains(&pk));
        // an ancestor whose id holds '#' still parses
        let (pk, _) = downline_edge(&net, &prog, &b, 1, 1, &a);
        assert_eq!(parse_downline_pk(&pk), Some(("n", "p", "b#c@x.io")));
        assert_eq!(parse_downline_pk("MEM#n#p#a"), None);
    }

    #[test]
    fn every_prefix_is_listed_once_and_found_again() {
        let mut p: Vec<&str> = Prefix::ALL.iter().map(|p| p.as_str()).collect();
        p.sort();
        p.dedup();
        assert_eq!(p.len(), Prefix::ALL.len());
        for x in Prefix::ALL {
            assert_eq!(Prefix::of(&format!("{x}n#u")), Some(x));
        }
        // a prefix that begins another is not taken for it
        assert_eq!(Prefix::of("JOBPEND#j#1"), Some(Prefix::JobPend));
        assert_eq!(Prefix::of("CODESHARD#c#1"), Some(Prefix::CodeShard));
        assert_eq!(Prefix::of("NOPE#x"), None);
        assert_eq!(
            IndexPrefix::of(RUNNING_JOBS),
            Some(IndexPrefix::RunningJobs)
        );
    }
}
