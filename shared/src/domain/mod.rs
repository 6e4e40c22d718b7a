//! Validated types and rules: pure, no I/O, no AWS types.

pub mod check;
pub mod code;
pub mod countries;
pub mod deso;
pub mod deso_key;
pub mod graph;
pub mod ids;
pub mod leaderboard;
pub mod link;
pub mod program;
pub mod referral_csv;
pub mod reward;
pub mod reward_check;
pub mod shards;
pub mod user;
pub mod webhook;
pub mod webhook_check;

pub use code::{Code, CodeConfig, CodeTotals};
pub use ids::{DesoPublicKey, Email, Level, NetworkId, ProgramId, ReferralCode, UserId};
pub use program::{Program, ProgramPatch, UsdCents};
pub use user::UserStatus;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// Input that breaks a rule; `code` is the contract's snake_case error code.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("internal: {0}")]
    Internal(&'static str),
}

impl DomainError {
    pub fn invalid(code: &'static str, message: &str) -> Self {
        DomainError::Invalid {
            code,
            message: message.to_owned(),
        }
    }
}
