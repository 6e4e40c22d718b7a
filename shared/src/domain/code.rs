//! Referral codes: one thing for both API families.

use super::program::UsdCents;
use super::{NetworkId, ProgramId, ReferralCode, UserId};

/// What an admin sets on a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeConfig {
    pub referrer_amount_usd_cents: UsdCents,
    pub referee_amount_usd_cents: UsdCents,
    /// 0 means unlimited.
    pub max_referrals: u64,
    pub requires_jumio: bool,
}

/// What the code has counted, summed over its shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CodeTotals {
    /// Connections made through the code: history, kept when a connection is moved later.
    pub total_referrals: u64,
    pub num_jumio_attempts: u64,
    pub num_jumio_successes: u64,
    pub total_referrer_deso_nanos: u64,
    pub total_referee_deso_nanos: u64,
}

impl std::ops::AddAssign for CodeTotals {
    fn add_assign(&mut self, o: CodeTotals) {
        self.total_referrals += o.total_referrals;
        self.num_jumio_attempts += o.num_jumio_attempts;
        self.num_jumio_successes += o.num_jumio_successes;
        self.total_referrer_deso_nanos += o.total_referrer_deso_nanos;
        self.total_referee_deso_nanos += o.total_referee_deso_nanos;
    }
}

/// What one credit adds to a code's DeSo counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreditAdds {
    pub referee_deso_nanos: u64,
    pub referrer_deso_nanos: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub code: ReferralCode,
    pub network: NetworkId,
    pub program: ProgramId,
    pub owner: UserId,
    pub config: CodeConfig,
    pub active: bool,
    pub totals: CodeTotals,
    pub created_at: String,
    pub created_ns: u64,
    /// When it stops making connections, in ms since the epoch; None: never.
    pub expires_ms: Option<u64>,
}

/// What a code can do now: the first that applies of inactive, expired, full, active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStatus {
    Inactive,
    Expired,
    Full,
    Active,
}

impl CodeStatus {
    /// The one place a code's state is derived from its fields.
    pub fn of(active: bool, expires_ms: Option<u64>, full: bool, now_ms: u64) -> CodeStatus {
        if !active {
            CodeStatus::Inactive
        } else if expires_ms.is_some_and(|e| now_ms >= e) {
            CodeStatus::Expired
        } else if full {
            CodeStatus::Full
        } else {
            CodeStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Inactive => "inactive",
            CodeStatus::Expired => "expired",
            CodeStatus::Full => "full",
            CodeStatus::Active => "active",
        }
    }
}

impl Code {
    /// A fresh code with zero stats, owned by `owner` in `program`.
    pub fn new(
        network: &NetworkId,
        program: &ProgramId,
        owner: &UserId,
        config: CodeConfig,
        now: &crate::clock::Now,
    ) -> Result<Code, super::DomainError> {
        Ok(Code {
            code: ReferralCode::generate()?,
            network: network.clone(),
            program: program.clone(),
            owner: owner.clone(),
            config,
            active: true,
            totals: CodeTotals::default(),
            created_at: now.rfc3339.clone(),
            created_ns: now.ns,
            expires_ms: None,
        })
    }

    pub fn status(&self, now_ms: u64) -> CodeStatus {
        CodeStatus::of(self.active, self.expires_ms, self.is_full(), now_ms)
    }

    /// Whether the code is full: a positive cap reached (or lowered below the total).
    pub fn is_full(&self) -> bool {
        self.config.max_referrals > 0 && self.totals.total_referrals >= self.config.max_referrals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(max: u64, total: u64) -> Code {
        Code {
            code: ReferralCode::try_from("abcdefgh").unwrap(),
            network: NetworkId::try_from("n").unwrap(),
            program: ProgramId::try_from("p").unwrap(),
            owner: UserId::from_stored("o@x.io").unwrap(),
            config: CodeConfig {
                referrer_amount_usd_cents: UsdCents::default(),
                referee_amount_usd_cents: UsdCents::default(),
                max_referrals: max,
                requires_jumio: false,
            },
            active: true,
            totals: CodeTotals {
                total_referrals: total,
                ..CodeTotals::default()
            },
            created_at: String::new(),
            created_ns: 0,
            expires_ms: None,
        }
    }

    #[test]
    fn status_is_the_first_that_applies() {
        use CodeStatus::*;
        let mut c = code(2, 2);
        assert_eq!(c.status(100), Full);
        c.expires_ms = Some(100);
        assert_eq!(c.status(99), Full);
        // the expiry instant itself is expired: a code counts strictly before it
        assert_eq!(c.status(100), Expired);
        c.active = false;
        assert_eq!(c.status(100), Inactive);
        let mut open = code(0, 7);
        assert_eq!(open.status(5), Active);
        open.expires_ms = Some(6);
        assert_eq!(open.status(5), Active);
        assert_eq!(open.status(6).as_str(), "expired");
    }

    #[test]
    fn limits() {
        assert!(!code(0, 1_000_000).is_full());
        assert!(!code(2, 1).is_full());
        assert!(code(2, 2).is_full());
        // an admin may lower the cap below the total: the code is then full
        assert!(code(2, 5).is_full());
    }

    #[test]
    fn totals_add_up() {
        let mut t = CodeTotals::default();
        t += CodeTotals {
            total_referrals: 2,
            num_jumio_successes: 1,
            ..CodeTotals::default()
        };
        t += CodeTotals {
            total_referrals: 3,
            total_referee_deso_nanos: 7,
            ..CodeTotals::default()
        };
        assert_eq!(t.total_referrals, 5);
        assert_eq!(t.num_jumio_successes, 1);
        assert_eq!(t.total_referee_deso_nanos, 7);
    }
}
