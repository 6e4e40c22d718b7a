//! DeSo-compatible rules: country bonuses, the amounts of a credit, and DeSo nanos.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// An ISO 3166-1 alpha-3 country code, checked against the ISO table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Alpha3(String);

impl Alpha3 {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country of a viewer header (alpha-2), through DeSo's lookup. XX, T1, unknown
    /// codes and nothing at all mean "no country": the default bonus applies.
    pub fn from_alpha2_header(v: Option<&str>) -> Option<Alpha3> {
        let v = v?.trim();
        if v.len() != 2 || v.eq_ignore_ascii_case("XX") || v.eq_ignore_ascii_case("T1") {
            return None;
        }
        super::countries::by_alpha2(&v.to_ascii_uppercase()).map(|c| Alpha3(c.alpha3.clone()))
    }

    pub fn country(&self) -> Option<&'static super::countries::Country> {
        super::countries::by_alpha3(&self.0)
    }
}

impl TryFrom<&str> for Alpha3 {
    type Error = DomainError;
    fn try_from(s: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "invalid_country",
                "CountryCode must be an ISO 3166-1 alpha-3 code, such as USA",
            )
        };
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad());
        }
        super::countries::by_alpha3(&s.to_ascii_uppercase())
            .map(|c| Alpha3(c.alpha3.clone()))
            .ok_or_else(bad)
    }
}

/// DeSo's CountryLevelSignUpBonus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CountryBonus {
    pub allow_custom_referral_amount: bool,
    #[serde(rename = "ReferralAmountOverrideUSDCents")]
    pub referral_amount_override_usd_cents: u64,
    pub allow_custom_kickback_amount: bool,
    #[serde(rename = "KickbackAmountOverrideUSDCents")]
    pub kickback_amount_override_usd_cents: u64,
}

impl CountryBonus {
    /// The bonus of a country without its own: the default referee and kickback amounts.
    pub fn default_with(jumio_usd_cents: u64, kickback_usd_cents: u64) -> CountryBonus {
        CountryBonus {
            allow_custom_referral_amount: false,
            referral_amount_override_usd_cents: jumio_usd_cents,
            allow_custom_kickback_amount: false,
            kickback_amount_override_usd_cents: kickback_usd_cents,
        }
    }

    /// (referee, referrer) cents of a credit. A referral that does not count pays the referee
    /// the country's override and the referrer nothing.
    pub fn amounts(&self, counted: Option<CodeAmounts>) -> (u64, u64) {
        match counted {
            None => (self.referral_amount_override_usd_cents, 0),
            Some(code) => {
                let referee = if self.allow_custom_referral_amount {
                    self.referral_amount_override_usd_cents
                        .max(code.referee_usd_cents)
                } else {
                    self.referral_amount_override_usd_cents
                };
                let referrer = if self.allow_custom_kickback_amount {
                    self.kickback_amount_override_usd_cents
                        .max(code.referrer_usd_cents)
                } else {
                    self.kickback_amount_override_usd_cents
                };
                (referee, referrer)
            }
        }
    }
}

/// Network-wide DeSo settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesoSettings {
    #[serde(default)]
    pub jumio_usd_cents: u64,
    #[serde(default)]
    pub kickback_usd_cents: u64,
    #[serde(default)]
    pub usd_cents_per_deso: Option<u64>,
}

impl DesoSettings {
    pub fn default_bonus(&self) -> CountryBonus {
        CountryBonus::default_with(self.jumio_usd_cents, self.kickback_usd_cents)
    }
}

/// The one number each settings route sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DesoSetting {
    /// The default referee bonus (`update-jumio-usd-cents`).
    JumioUsdCents,
    /// The default kickback (`update-jumio-kickback-usd-cents`).
    KickbackUsdCents,
    /// `set-usd-cents-to-deso-reserve-exchange-rate`.
    UsdCentsPerDeso,
}

impl DesoSetting {
    /// Checks a value for this setting.
    pub fn validate(self, v: u64) -> Result<u64, DomainError> {
        match self {
            DesoSetting::JumioUsdCents | DesoSetting::KickbackUsdCents => {
                super::UsdCents::of("USDCents", v).map(|c| c.get().into())
            }
            DesoSetting::UsdCentsPerDeso if v < 1 => Err(DomainError::invalid(
                "invalid_rate",
                "USDCentsPerDeSo must be at least 1",
            )),
            DesoSetting::UsdCentsPerDeso => Ok(v),
        }
    }
}

/// One entry of what a user or a referrer is owed. The ledger is append-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub beneficiary: String,
    pub referee: String,
    pub role: String,
    pub usd_cents: u64,
    pub deso_nanos: u64,
    #[serde(default)]
    pub code: Option<String>,
    pub counted: bool,
}

/// A code's own amounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeAmounts {
    pub referee_usd_cents: u64,
    pub referrer_usd_cents: u64,
}

/// What a sign-up credit pays: the referee always, the code's owner only when the referral
/// counts (the user began with an active code that has room, and the link can be made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payout {
    pub counted: bool,
    pub referee_cents: u64,
    pub referrer_cents: u64,
    pub referee_nanos: u64,
    pub referrer_nanos: u64,
}

/// The payout of a credit under `bonus` at the rate in force; `referral` is the code's
/// amounts when the referral counts.
pub fn payout(bonus: &CountryBonus, rate: Option<u64>, referral: Option<CodeAmounts>) -> Payout {
    let (referee_cents, referrer_cents) = bonus.amounts(referral);
    Payout {
        counted: referral.is_some(),
        referee_cents,
        referrer_cents,
        referee_nanos: cents_to_nanos(referee_cents, rate),
        referrer_nanos: cents_to_nanos(referrer_cents, rate),
    }
}

/// DeSo nanos for `cents` at `usd_cents_per_deso`; 0 while no rate is set.
pub fn cents_to_nanos(cents: u64, usd_cents_per_deso: Option<u64>) -> u64 {
    match usd_cents_per_deso {
        Some(rate) if rate > 0 => {
            let n = cents as u128 * 1_000_000_000u128 / rate as u128;
            u64::try_from(n).unwrap_or(u64::MAX)
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: CodeAmounts = CodeAmounts {
        referee_usd_cents: 700,
        referrer_usd_cents: 300,
    };

    fn bonus(custom_ref: bool, custom_kick: bool) -> CountryBonus {
        CountryBonus {
            allow_custom_referral_amount: custom_ref,
            referral_amount_override_usd_cents: 500,
            allow_custom_kickback_amount: custom_kick,
            kickback_amount_override_usd_cents: 100,
        }
    }

    #[test]
    fn amounts_for_each_flag_combination() {
        assert_eq!(bonus(false, false).amounts(Some(CODE)), (500, 100));
        assert_eq!(bonus(true, false).amounts(Some(CODE)), (700, 100));
        assert_eq!(bonus(false, true).amounts(Some(CODE)), (500, 300));
        assert_eq!(bonus(true, true).amounts(Some(CODE)), (700, 300));
        // the override wins when larger than the code's amount
        let low = CodeAmounts {
            referee_usd_cents: 10,
            referrer_usd_cents: 20,
        };
        assert_eq!(bonus(true, true).amounts(Some(low)), (500, 100));
        // not counted: the override to the referee, nothing to the referrer, whatever the flags
        for (a, b) in [(false, false), (true, false), (false, true), (true, true)] {
            assert_eq!(bonus(a, b).amounts(None), (500, 0));
        }
    }

    #[test]
    fn nanos() {
        assert_eq!(cents_to_nanos(500, None), 0);
        assert_eq!(cents_to_nanos(500, Some(0)), 0);
        // $5 at $10 per DeSo is half a DeSo
        assert_eq!(cents_to_nanos(500, Some(1000)), 500_000_000);
        assert_eq!(cents_to_nanos(1, Some(3)), 333_333_333);
        assert_eq!(cents_to_nanos(100_000, Some(1)), 100_000_000_000_000);
    }

    #[test]
    fn countries() {
        assert_eq!(
            Alpha3::from_alpha2_header(Some("US")).unwrap().as_str(),
            "USA"
        );
        assert_eq!(
            Alpha3::from_alpha2_header(Some("de")).unwrap().as_str(),
            "DEU"
        );
        for v in [
            Some("XX"),
            Some("T1"),
            Some("ZZ"),
            Some(""),
            Some("USA"),
            None,
        ] {
            assert_eq!(Alpha3::from_alpha2_header(v), None, "{v:?}");
        }
        assert_eq!(Alpha3::try_from("usa").unwrap().as_str(), "USA");
        assert!(Alpha3::try_from("XYZ").is_err());
        assert!(Alpha3::try_from("US").is_err());
        assert!(Alpha3::try_from("U1A").is_err());
    }

    #[test]
    fn bonus_wire_names_are_deso_s() {
        let v = serde_json::to_value(bonus(true, false)).unwrap();
        assert_eq!(v["AllowCustomReferralAmount"], true);
        assert_eq!(v["ReferralAmountOverrideUSDCents"], 500);
        assert_eq!(v["AllowCustomKickbackAmount"], false);
        assert_eq!(v["KickbackAmountOverrideUSDCents"], 100);
    }

    #[test]
    fn a_payout_pays_the_referrer_only_when_the_referral_counts() {
        let bonus = CountryBonus {
            allow_custom_referral_amount: true,
            referral_amount_override_usd_cents: 300,
            allow_custom_kickback_amount: false,
            kickback_amount_override_usd_cents: 50,
        };
        let code = CodeAmounts {
            referee_usd_cents: 1000,
            referrer_usd_cents: 500,
        };
        let p = payout(&bonus, Some(1000), Some(code));
        assert!(p.counted);
        assert_eq!((p.referee_cents, p.referrer_cents), (1000, 50));
        assert_eq!(
            p.referee_nanos, 1_000_000_000,
            "1000 cents at 1000 cents a DeSo"
        );
        assert_eq!(p.referrer_nanos, 50_000_000);
        let p = payout(&bonus, None, None);
        assert!(!p.counted);
        assert_eq!((p.referee_cents, p.referrer_cents), (300, 0));
        assert_eq!((p.referee_nanos, p.referrer_nanos), (0, 0), "no rate set");
    }
}
