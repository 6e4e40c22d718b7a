//! Program rules, events and the rewards they earn: validation and arithmetic, no I/O.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{DomainError, Level, ProgramId};

pub const MAX_RULES_PER_PROGRAM: u64 = 50;
pub const MAX_EVENT_AMOUNT: i64 = 100_000_000;
pub const MAX_LEVEL_AMOUNT: i64 = 100_000;
pub const MAX_BPS: i64 = 10_000;
pub const MAX_HOLD_DAYS: i64 = 365;
pub const MAX_METADATA_BYTES: usize = 4096;
/// The payout of DeSo credits' rewards: DeSo pays them, not a Refnet payout.
pub const DESO_PAYOUT: &str = "deso";
/// The event Refnet records itself when a user gets their first referrer in a program.
pub const SIGNUP: &str = "signup";

fn invalid(field: &str, what: &str) -> DomainError {
    DomainError::Invalid {
        code: "invalid_rule",
        message: format!("{field} {what}"),
    }
}

/// What one level of the upline earns: a fixed amount, or a share of the event's amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleLevel {
    pub level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_usd_cents: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_bps: Option<u64>,
}

impl RuleLevel {
    /// What this level earns from an event of `amount` cents; a share rounds down to the cent.
    pub fn earns(&self, amount: u64) -> u64 {
        match (self.amount_usd_cents, self.percent_bps) {
            (Some(c), _) => c,
            (None, Some(bps)) => amount.saturating_mul(bps) / 10_000,
            (None, None) => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub rule_id: String,
    pub program_id: String,
    pub event: String,
    pub levels: Vec<RuleLevel>,
    pub min_amount_usd_cents: u64,
    pub hold_days: u64,
    pub max_rewards_per_referee: u64,
    pub active: bool,
    pub created_at: String,
}

impl Rule {
    /// Whether an event named `event` of `amount` cents earns from this rule.
    pub fn applies(&self, event: &str, amount: u64) -> bool {
        self.active && self.event == event && amount >= self.min_amount_usd_cents
    }
}

/// A level as sent: numbers kept wide so that out-of-range values get a clear 400.
#[derive(Clone, Debug, Deserialize)]
pub struct LevelIn {
    pub level: i64,
    pub amount_usd_cents: Option<i64>,
    pub percent_bps: Option<i64>,
}

/// A PUT body's `rule`: every field optional; create needs `event` and `levels`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RulePatch {
    pub event: Option<String>,
    pub levels: Option<Vec<LevelIn>>,
    pub min_amount_usd_cents: Option<i64>,
    pub hold_days: Option<i64>,
    pub max_rewards_per_referee: Option<i64>,
    pub active: Option<bool>,
}

fn in_range(field: &str, v: Option<i64>, max: i64) -> Result<Option<u64>, DomainError> {
    match v {
        None => Ok(None),
        Some(x) if (0..=max).contains(&x) => Ok(Some(x as u64)),
        Some(_) => Err(invalid(field, &format!("must be 0 to {max}"))),
    }
}

/// An event name: 1 to 64 characters of `[a-z0-9_.:-]`.
pub fn valid_event_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b))
}

fn levels_of(raw: &[LevelIn], max_levels: Level) -> Result<Vec<RuleLevel>, DomainError> {
    if raw.is_empty() || raw.len() > Level::MAX.get() as usize {
        return Err(invalid("levels", "must list 1 to 10 levels"));
    }
    let mut out: Vec<RuleLevel> = Vec::with_capacity(raw.len());
    for l in raw {
        if !(1..=max_levels.get() as i64).contains(&l.level) {
            return Err(invalid(
                "levels",
                &format!(
                    "level {} is outside 1 to the program's max_levels ({})",
                    l.level,
                    max_levels.get()
                ),
            ));
        }
        let level = l.level as u8;
        if out.iter().any(|o| o.level == level) {
            return Err(invalid("levels", &format!("level {level} appears twice")));
        }
        let (amount, bps) = match (l.amount_usd_cents, l.percent_bps) {
            (Some(a), None) => (
                in_range("levels.amount_usd_cents", Some(a), MAX_LEVEL_AMOUNT)?,
                None,
            ),
            (None, Some(b)) => (None, in_range("levels.percent_bps", Some(b), MAX_BPS)?),
            _ => {
                return Err(invalid(
                    "levels",
                    &format!("level {level} needs exactly one of amount_usd_cents and percent_bps"),
                ))
            }
        };
        out.push(RuleLevel {
            level,
            amount_usd_cents: amount,
            percent_bps: bps,
        });
    }
    out.sort_by_key(|l| l.level);
    Ok(out)
}

impl RulePatch {
    /// The rule this patch makes of `existing` (or a new one), for a program of `max_levels`.
    pub fn apply(
        &self,
        (program, rule_id): (&ProgramId, &ProgramId),
        existing: Option<&Rule>,
        max_levels: Level,
        now: &str,
    ) -> Result<Rule, DomainError> {
        let event = match (&self.event, existing) {
            (Some(e), _) if valid_event_name(e) => e.clone(),
            (Some(_), _) => {
                return Err(invalid(
                    "event",
                    "must be 1 to 64 characters of a-z, 0-9, '_', '.', ':' and '-'",
                ))
            }
            (None, Some(r)) => r.event.clone(),
            (None, None) => return Err(invalid("event", "is required to create a rule")),
        };
        let levels = match (&self.levels, existing) {
            (Some(raw), _) => levels_of(raw, max_levels)?,
            (None, Some(r)) => r.levels.clone(),
            (None, None) => return Err(invalid("levels", "is required to create a rule")),
        };
        let keep = |v: Option<u64>, old: fn(&Rule) -> u64, default: u64| {
            v.unwrap_or_else(|| existing.map_or(default, old))
        };
        Ok(Rule {
            rule_id: rule_id.as_str().to_owned(),
            program_id: program.as_str().to_owned(),
            event,
            levels,
            min_amount_usd_cents: keep(
                in_range(
                    "min_amount_usd_cents",
                    self.min_amount_usd_cents,
                    MAX_EVENT_AMOUNT,
                )?,
                |r| r.min_amount_usd_cents,
                0,
            ),
            hold_days: keep(
                in_range("hold_days", self.hold_days, MAX_HOLD_DAYS)?,
                |r| r.hold_days,
                0,
            ),
            max_rewards_per_referee: keep(
                in_range(
                    "max_rewards_per_referee",
                    self.max_rewards_per_referee,
                    i64::from(u32::MAX),
                )?,
                |r| r.max_rewards_per_referee,
                0,
            ),
            active: self
                .active
                .unwrap_or_else(|| existing.is_none_or(|r| r.active)),
            created_at: existing.map_or_else(|| now.to_owned(), |r| r.created_at.clone()),
        })
    }
}

/// A POST events body.
#[derive(Clone, Debug, Deserialize)]
pub struct EventIn {
    pub event_id: String,
    pub user: String,
    pub event: String,
    pub amount_usd_cents: Option<i64>,
    pub metadata: Option<Value>,
}

fn bad_event(code: &'static str, message: &str) -> DomainError {
    DomainError::invalid(code, message)
}

/// An event id: 1 to 400 printable ASCII characters, no spaces.
pub fn valid_event_id(id: &str) -> bool {
    (1..=400).contains(&id.len()) && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// An event as accepted: what the event item keeps, besides who it is for.
#[derive(Clone, Debug, PartialEq)]
pub struct EventFacts {
    pub event_id: String,
    pub event: String,
    pub amount_usd_cents: u64,
    /// The metadata object as canonical JSON text ("{}" when none was sent).
    pub metadata: String,
}

impl EventIn {
    pub fn validate(&self) -> Result<EventFacts, DomainError> {
        if !valid_event_id(&self.event_id) {
            return Err(bad_event(
                "invalid_event_id",
                "event_id must be 1 to 400 printable ASCII characters without spaces",
            ));
        }
        if !valid_event_name(&self.event) {
            return Err(bad_event(
                "invalid_event",
                "event must be 1 to 64 characters of a-z, 0-9, '_', '.', ':' and '-'",
            ));
        }
        let amount = match self.amount_usd_cents {
            None => 0,
            Some(a) if (0..=MAX_EVENT_AMOUNT).contains(&a) => a as u64,
            Some(_) => {
                return Err(bad_event(
                    "invalid_amount",
                    &format!("amount_usd_cents must be 0 to {MAX_EVENT_AMOUNT}"),
                ))
            }
        };
        let metadata = match &self.metadata {
            None => "{}".to_owned(),
            Some(m @ Value::Object(_)) => {
                let text = serde_json::to_string(m).unwrap_or_default();
                if text.len() > MAX_METADATA_BYTES {
                    return Err(bad_event(
                        "invalid_metadata",
                        "metadata must be at most 4 KiB of JSON",
                    ));
                }
                text
            }
            Some(_) => {
                return Err(bad_event(
                    "invalid_metadata",
                    "metadata must be a JSON object",
                ))
            }
        };
        Ok(EventFacts {
            event_id: self.event_id.clone(),
            event: self.event.clone(),
            amount_usd_cents: amount,
            metadata,
        })
    }
}

/// The `event_id` of a user's signup in a program.
pub fn signup_event_id(program: &ProgramId, user: &str) -> String {
    format!("signup:{program}:{user}")
}

/// A reward's id, derived from what it is the reward for: (event, program, rule, level) can
/// only ever name one reward.
pub fn reward_id(net: &str, event_id: &str, program: &str, rule: &str, level: u8) -> String {
    let d = Sha256::digest(format!("{net}\n{event_id}\n{program}\n{rule}\n{level}").as_bytes());
    format!("rw_{}", bs58::encode(&d[..16]).into_string())
}

/// The id of the clawback of a paid reward: one per reward, whatever reversals repeat.
pub fn clawback_id(reward_id: &str) -> String {
    let d = Sha256::digest(format!("clawback\n{reward_id}").as_bytes());
    format!("rw_{}", bs58::encode(&d[..16]).into_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RewardStatus {
    Pending,
    Approved,
    Paid,
    Voided,
}

impl RewardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RewardStatus::Pending => "pending",
            RewardStatus::Approved => "approved",
            RewardStatus::Paid => "paid",
            RewardStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<RewardStatus> {
        [
            RewardStatus::Pending,
            RewardStatus::Approved,
            RewardStatus::Paid,
            RewardStatus::Voided,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

pub const HOUR_NS: u64 = 3_600_000_000_000;

/// When a reward created at `created_ns` with a hold of `hold_days` becomes approved, in ns:
/// at once without a hold, else at the first whole hour after the hold (balances keep
/// pending amounts per hour, so a reward turns approved in the list and in the balance at
/// the same instant).
pub fn approvable_ns(created_ns: u64, hold_days: u64) -> u64 {
    if hold_days == 0 {
        return created_ns;
    }
    let end = created_ns.saturating_add(hold_days.saturating_mul(24 * HOUR_NS));
    end.div_ceil(HOUR_NS).saturating_mul(HOUR_NS)
}

/// The hour number (since the epoch) of an instant in ns.
pub fn hour_of(ns: u64) -> u64 {
    ns / HOUR_NS
}

/// The balance bucket a reward's amount is counted in: its status, or for a pending one the
/// hour it becomes approved (`p<hour>`).
pub fn bucket(status: RewardStatus, approvable_ns: u64) -> String {
    match status {
        RewardStatus::Pending => format!("p{}", hour_of(approvable_ns)),
        s => s.as_str().to_owned(),
    }
}

/// A stored status as the list shows it at `now_ns`: a pending reward past its hold is approved.
pub fn status_at(stored: RewardStatus, approvable_ns: u64, now_ns: u64) -> RewardStatus {
    match stored {
        RewardStatus::Pending if approvable_ns <= now_ns => RewardStatus::Approved,
        s => s,
    }
}

/// A user's balance by status, in cents (clawbacks count negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub pending: i64,
    pub approved: i64,
    pub paid: i64,
    pub voided: i64,
}

impl Balance {
    /// The balance of stored sums: fixed statuses, and pending cents per approvable hour.
    pub fn at(
        fixed: [i64; 3],
        pending_by_hour: impl IntoIterator<Item = (u64, i64)>,
        now_ns: u64,
    ) -> Balance {
        let mut b = Balance {
            approved: fixed[0],
            paid: fixed[1],
            voided: fixed[2],
            pending: 0,
        };
        for (hour, cents) in pending_by_hour {
            if hour.saturating_mul(HOUR_NS) <= now_ns {
                b.approved += cents;
            } else {
                b.pending += cents;
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(s: &str) -> ProgramId {
        ProgramId::try_from(s).unwrap()
    }

    fn patch(v: Value) -> Result<RulePatch, serde_json::Error> {
        serde_json::from_value(v)
    }

    fn level(n: u8) -> Level {
        Level::new(n).unwrap()
    }

    #[test]
    fn percent_rounds_down_to_the_cent() {
        let l = RuleLevel {
            level: 1,
            amount_usd_cents: None,
            percent_bps: Some(1000),
        };
        assert_eq!(l.earns(999), 99);
        assert_eq!(l.earns(1), 0);
        assert_eq!(l.earns(100_000_000), 10_000_000);
        let odd = RuleLevel {
            percent_bps: Some(333),
            ..l
        };
        assert_eq!(odd.earns(1000), 33);
        let fixed = RuleLevel {
            level: 2,
            amount_usd_cents: Some(250),
            percent_bps: None,
        };
        assert_eq!(fixed.earns(0), 250);
    }

    #[test]
    fn a_rule_needs_event_and_levels_on_create_and_keeps_fields_on_update() {
        let (p, r) = (pid("p"), pid("r1"));
        let p0 =
            patch(serde_json::json!({"levels": [{"level": 1, "amount_usd_cents": 5}]})).unwrap();
        assert!(p0.apply((&p, &r), None, level(10), "t").is_err());
        let full = patch(serde_json::json!({"event": "purchase", "levels": [{"level": 2, "percent_bps": 500}, {"level": 1, "amount_usd_cents": 100}], "hold_days": 3})).unwrap();
        let rule = full.apply((&p, &r), None, level(10), "t0").unwrap();
        assert_eq!(rule.levels[0].level, 1, "levels sorted");
        assert_eq!((rule.hold_days, rule.active), (3, true));
        let upd = patch(serde_json::json!({"active": false})).unwrap();
        let next = upd.apply((&p, &r), Some(&rule), level(10), "t1").unwrap();
        assert_eq!(
            (next.active, next.hold_days, &next.created_at),
            (false, 3, &"t0".to_owned())
        );
        assert_eq!(next.levels, rule.levels);
    }

    #[test]
    fn bad_levels_are_refused_naming_the_field() {
        let (p, r) = (pid("p"), pid("r1"));
        for (levels, max) in [
            (serde_json::json!([]), 10),
            (serde_json::json!([{"level": 3, "amount_usd_cents": 1}]), 2),
            (serde_json::json!([{"level": 0, "amount_usd_cents": 1}]), 10),
            (serde_json::json!([{"level": 1}]), 10),
            (
                serde_json::json!([{"level": 1, "amount_usd_cents": 1, "percent_bps": 5}]),
                10,
            ),
            (
                serde_json::json!([{"level": 1, "amount_usd_cents": 100001}]),
                10,
            ),
            (serde_json::json!([{"level": 1, "percent_bps": 10001}]), 10),
            (
                serde_json::json!([{"level": 1, "amount_usd_cents": 1}, {"level": 1, "amount_usd_cents": 2}]),
                10,
            ),
        ] {
            let pa = patch(serde_json::json!({"event": "e", "levels": levels})).unwrap();
            let err = pa.apply((&p, &r), None, level(max), "t").unwrap_err();
            assert!(err.to_string().contains("levels"), "{levels}: {err}");
        }
        let pa = patch(serde_json::json!({"event": "Bad Name", "levels": [{"level": 1, "amount_usd_cents": 1}]})).unwrap();
        assert!(pa.apply((&p, &r), None, level(10), "t").is_err());
        let pa = patch(serde_json::json!({"event": "e", "levels": [{"level": 1, "amount_usd_cents": 1}], "hold_days": 366})).unwrap();
        assert!(pa.apply((&p, &r), None, level(10), "t").is_err());
        // unknown fields are ignored, as on the Connections API
        assert!(patch(serde_json::json!({"evnt": "e"})).is_ok());
    }

    #[test]
    fn events_are_validated() {
        let ev = |v: Value| serde_json::from_value::<EventIn>(v).unwrap().validate();
        let ok = ev(serde_json::json!({"event_id": "o-1", "user": "a@x.io", "event": "purchase", "amount_usd_cents": 500, "metadata": {"b": 1, "a": 2}})).unwrap();
        assert_eq!(ok.amount_usd_cents, 500);
        assert_eq!(ok.metadata, r#"{"a":2,"b":1}"#, "canonical");
        for bad in [
            serde_json::json!({"event_id": "", "user": "u", "event": "e"}),
            serde_json::json!({"event_id": "a b", "user": "u", "event": "e"}),
            serde_json::json!({"event_id": "x".repeat(401), "user": "u", "event": "e"}),
            serde_json::json!({"event_id": "é", "user": "u", "event": "e"}),
            serde_json::json!({"event_id": "1", "user": "u", "event": "E"}),
            serde_json::json!({"event_id": "1", "user": "u", "event": "e", "amount_usd_cents": -1}),
            serde_json::json!({"event_id": "1", "user": "u", "event": "e", "amount_usd_cents": 100_000_001}),
            serde_json::json!({"event_id": "1", "user": "u", "event": "e", "metadata": [1]}),
            serde_json::json!({"event_id": "1", "user": "u", "event": "e", "metadata": {"k": "x".repeat(4100)}}),
        ] {
            assert!(ev(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sample_events_name_the_demo_s_rewards() {
        // events/approve-reward.json and events/void-reward.json
        assert_eq!(
            reward_id("demo", "demo-sub-1", "default", "subscription-review", 1),
            "rw_LdtGcWtrsB8Abxrr7EKFjL"
        );
        assert_eq!(
            reward_id("demo", "demo-sub-2", "default", "subscription-review", 1),
            "rw_PULNVpmRfRthv5ByaM4R1v"
        );
    }

    #[test]
    fn reward_ids_are_one_per_key() {
        let a = reward_id("n", "e1", "p", "r", 1);
        assert_eq!(a, reward_id("n", "e1", "p", "r", 1));
        assert_ne!(a, reward_id("n", "e1", "p", "r", 2));
        assert_ne!(a, reward_id("n", "e1", "p", "r2", 1));
        assert_ne!(a, reward_id("n2", "e1", "p", "r", 1));
    }

    #[test]
    fn holds_end_on_the_hour_and_the_balance_agrees_with_the_list() {
        let created = 10 * HOUR_NS + 5;
        assert_eq!(approvable_ns(created, 0), created);
        let at = approvable_ns(created, 1);
        assert_eq!(at, 35 * HOUR_NS);
        assert_eq!(
            status_at(RewardStatus::Pending, at, at - 1),
            RewardStatus::Pending
        );
        assert_eq!(
            status_at(RewardStatus::Pending, at, at),
            RewardStatus::Approved
        );
        let b = Balance::at([10, 20, 30], [(hour_of(at), 7), (hour_of(at) + 1, 5)], at);
        assert_eq!(
            b,
            Balance {
                pending: 5,
                approved: 17,
                paid: 20,
                voided: 30
            }
        );
    }
}
