//! Referral programs: their settings, defaults and limits.

use serde::{Deserialize, Serialize};

use super::{DomainError, Level, ProgramId};

pub const MAX_USD_CENTS: u32 = 100_000;
pub const MAX_NAME_LEN: usize = 200;

/// An amount in US cents, 0..=100000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(try_from = "i64", into = "u32")]
pub struct UsdCents(u32);

impl UsdCents {
    pub fn get(self) -> u32 {
        self.0
    }

    /// An amount from a wire number; out of range is an error naming `field`.
    pub fn of(field: &str, v: u64) -> Result<UsdCents, DomainError> {
        i64::try_from(v)
            .ok()
            .and_then(|v| UsdCents::try_from(v).ok())
            .ok_or_else(|| {
                DomainError::invalid(
                    "invalid_amount",
                    &format!("{field} must be at most {MAX_USD_CENTS}"),
                )
            })
    }
}

impl TryFrom<i64> for UsdCents {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (0..=MAX_USD_CENTS as i64).contains(&v) {
            Ok(UsdCents(v as u32))
        } else {
            Err(format!(
                "amount must be 0..={MAX_USD_CENTS} US cents, got {v}"
            ))
        }
    }
}

impl From<UsdCents> for u32 {
    fn from(v: UsdCents) -> u32 {
        v.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub id: ProgramId,
    pub name: String,
    pub max_levels: Level,
    pub active: bool,
    pub referrer_amount_usd_cents: UsdCents,
    pub referee_amount_usd_cents: UsdCents,
    /// 0 means unlimited.
    pub max_referrals_per_code: u32,
    pub created_at: String,
}

/// A PUT body: every field optional. Missing fields keep their value, or take the default on create.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ProgramPatch {
    pub name: Option<String>,
    pub max_levels: Option<i64>,
    pub active: Option<bool>,
    pub referrer_amount_usd_cents: Option<UsdCents>,
    pub referee_amount_usd_cents: Option<UsdCents>,
    pub max_referrals_per_code: Option<i64>,
}

impl ProgramPatch {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(name) = &self.name {
            let n = name.trim();
            if n.is_empty() || n.chars().count() > MAX_NAME_LEN || n.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    "invalid_name",
                    "name must be 1 to 200 printable characters",
                ));
            }
        }
        if let Some(l) = self.max_levels {
            if !(1..=i64::from(Level::MAX.get())).contains(&l) {
                return Err(DomainError::invalid(
                    "invalid_max_levels",
                    &format!("max_levels must be between 1 and {}", Level::MAX.get()),
                ));
            }
        }
        if let Some(m) = self.max_referrals_per_code {
            if !(0..=1_000_000_000).contains(&m) {
                return Err(DomainError::invalid(
                    "invalid_max_referrals_per_code",
                    "max_referrals_per_code must be 0 (unlimited) to 1000000000",
                ));
            }
        }
        Ok(())
    }

    /// The program after this patch: `old` when updating, defaults when creating.
    pub fn apply(&self, id: &ProgramId, old: Option<&Program>, now: &str) -> Program {
        let base = old.cloned().unwrap_or_else(|| Program {
            id: id.clone(),
            name: id.as_str().to_owned(),
            max_levels: Level::MAX,
            active: true,
            referrer_amount_usd_cents: UsdCents::default(),
            referee_amount_usd_cents: UsdCents::default(),
            max_referrals_per_code: 0,
            created_at: now.to_owned(),
        });
        Program {
            id: id.clone(),
            name: self
                .name
                .as_deref()
                .map(|n| n.trim().to_owned())
                .unwrap_or(base.name),
            // validate() bounds both numbers before apply() is called
            max_levels: self
                .max_levels
                .and_then(|l| u8::try_from(l).ok())
                .and_then(Level::new)
                .unwrap_or(base.max_levels),
            active: self.active.unwrap_or(base.active),
            referrer_amount_usd_cents: self
                .referrer_amount_usd_cents
                .unwrap_or(base.referrer_amount_usd_cents),
            referee_amount_usd_cents: self
                .referee_amount_usd_cents
                .unwrap_or(base.referee_amount_usd_cents),
            max_referrals_per_code: self
                .max_referrals_per_code
                .map(|m| m as u32)
                .unwrap_or(base.max_referrals_per_code),
            created_at: base.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid() -> ProgramId {
        ProgramId::try_from("p1").unwrap()
    }

    #[test]
    fn create_takes_defaults() {
        let p = ProgramPatch::default().apply(&pid(), None, "t0");
        assert_eq!(p.name, "p1");
        assert_eq!(p.max_levels, Level::MAX);
        assert!(p.active);
        assert_eq!(p.max_referrals_per_code, 0);
        assert_eq!(p.created_at, "t0");
    }

    #[test]
    fn update_keeps_missing_fields() {
        let first: ProgramPatch = serde_json::from_str(
            r#"{"name":"Gold","max_levels":3,"referee_amount_usd_cents":500}"#,
        )
        .unwrap();
        first.validate().unwrap();
        let p = first.apply(&pid(), None, "t0");
        let second: ProgramPatch = serde_json::from_str(r#"{"active":false}"#).unwrap();
        let q = second.apply(&pid(), Some(&p), "t1");
        assert_eq!(q.name, "Gold");
        assert_eq!(q.max_levels.get(), 3);
        assert!(!q.active);
        assert_eq!(q.referee_amount_usd_cents.get(), 500);
        assert_eq!(q.created_at, "t0");
    }

    #[test]
    fn ranges_are_enforced() {
        for body in [
            r#"{"max_levels":0}"#,
            r#"{"max_levels":11}"#,
            r#"{"name":""}"#,
            r#"{"name":"   "}"#,
            r#"{"max_referrals_per_code":-1}"#,
        ] {
            let p: ProgramPatch = serde_json::from_str(body).unwrap();
            assert!(p.validate().is_err(), "{body}");
        }
        for body in [
            r#"{"referrer_amount_usd_cents":100001}"#,
            r#"{"referee_amount_usd_cents":-1}"#,
            r#"{"max_levels":"3"}"#,
            r#"{"active":"yes"}"#,
        ] {
            assert!(
                serde_json::from_str::<ProgramPatch>(body).is_err(),
                "{body}"
            );
        }
    }
}
