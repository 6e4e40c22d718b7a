//! Referral codes: one thing for both API families.

use super::{NetworkId, ProgramId, ReferralCode, UserId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub code: ReferralCode,
    pub network: NetworkId,
    pub program: ProgramId,
    pub owner: UserId,
    pub referrer_amount_usd_cents: u32,
    pub referee_amount_usd_cents: u32,
    /// 0 means unlimited.
    pub max_referrals: u64,
    pub requires_jumio: bool,
    pub active: bool,
    pub total_referrals: u64,
    pub num_jumio_attempts: u64,
    pub num_jumio_successes: u64,
    pub total_referrer_deso_nanos: u64,
    pub total_referee_deso_nanos: u64,
    pub created_at: String,
    pub created_ns: u64,
}

impl Code {
    /// A fresh code with zero stats, owned by `owner` in `program`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        network: &NetworkId,
        program: &ProgramId,
        owner: &UserId,
        referrer_amount_usd_cents: u32,
        referee_amount_usd_cents: u32,
        max_referrals: u64,
        requires_jumio: bool,
        now: &crate::clock::Now,
    ) -> Result<Code, super::DomainError> {
        Ok(Code {
            code: ReferralCode::generate()?,
            network: network.clone(),
            program: program.clone(),
            owner: owner.clone(),
            referrer_amount_usd_cents,
            referee_amount_usd_cents,
            max_referrals,
            requires_jumio,
            active: true,
            total_referrals: 0,
            num_jumio_attempts: 0,
            num_jumio_successes: 0,
            total_referrer_deso_nanos: 0,
            total_referee_deso_nanos: 0,
            created_at: now.rfc3339.clone(),
            created_ns: now.ns,
        })
    }

    /// Whether one more connection may be made through this code.
    pub fn accepts_referral(&self) -> bool {
        self.active && (self.max_referrals == 0 || self.total_referrals < self.max_referrals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(active: bool, max: u64, total: u64) -> Code {
        Code {
            code: ReferralCode::try_from("abcdefgh").unwrap(),
            network: NetworkId::try_from("n").unwrap(),
            program: ProgramId::try_from("p").unwrap(),
            owner: UserId::from_stored("o@x.io").unwrap(),
            referrer_amount_usd_cents: 0,
            referee_amount_usd_cents: 0,
            max_referrals: max,
            requires_jumio: false,
            active,
            total_referrals: total,
            num_jumio_attempts: 0,
            num_jumio_successes: 0,
            total_referrer_deso_nanos: 0,
            total_referee_deso_nanos: 0,
            created_at: String::new(),
            created_ns: 0,
        }
    }

    #[test]
    fn limits() {
        assert!(code(true, 0, 1_000_000).accepts_referral());
        assert!(code(true, 2, 1).accepts_referral());
        assert!(!code(true, 2, 2).accepts_referral());
        // an admin may lower the cap below the total: the code is then full
        assert!(!code(true, 2, 5).accepts_referral());
        assert!(!code(false, 0, 0).accepts_referral());
    }
}
