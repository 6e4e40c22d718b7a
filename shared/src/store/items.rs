//! Item mapping between DynamoDB and the domain.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::{Item, StoreError};
use crate::domain::graph::MemberView;
use crate::domain::{Code, NetworkId, Program, ProgramId, ReferralCode, UserId};

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn to_item<T: Serialize>(v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} is invalid"))
}

pub fn user_id(s: &str) -> Result<UserId, StoreError> {
    UserId::from_stored(s).map_err(|_| corrupt("user id"))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ProgramItem {
    pub program_id: String,
    pub name: String,
    pub max_levels: u8,
    pub active: bool,
    pub referrer_amount_usd_cents: i64,
    pub referee_amount_usd_cents: i64,
    pub max_referrals_per_code: u32,
    pub created_at: String,
}

impl TryFrom<ProgramItem> for Program {
    type Error = StoreError;
    fn try_from(p: ProgramItem) -> Result<Program, StoreError> {
        Ok(Program {
            id: ProgramId::try_from(p.program_id.as_str()).map_err(|_| corrupt("program id"))?,
            name: p.name,
            max_levels: p.max_levels,
            active: p.active,
            referrer_amount_usd_cents: p
                .referrer_amount_usd_cents
                .try_into()
                .map_err(|_| corrupt("amount"))?,
            referee_amount_usd_cents: p
                .referee_amount_usd_cents
                .try_into()
                .map_err(|_| corrupt("amount"))?,
            max_referrals_per_code: p.max_referrals_per_code,
            created_at: p.created_at,
        })
    }
}

impl From<&Program> for ProgramItem {
    fn from(p: &Program) -> Self {
        ProgramItem {
            program_id: p.id.as_str().to_owned(),
            name: p.name.clone(),
            max_levels: p.max_levels,
            active: p.active,
            referrer_amount_usd_cents: p.referrer_amount_usd_cents.get().into(),
            referee_amount_usd_cents: p.referee_amount_usd_cents.get().into(),
            max_referrals_per_code: p.max_referrals_per_code,
            created_at: p.created_at.clone(),
        }
    }
}

pub fn program(item: Item) -> Result<Program, StoreError> {
    from_item::<ProgramItem>(item)?.try_into()
}

/// A user's place in one program's graph.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MembershipItem {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default)]
    pub upline: Vec<String>,
    pub root: String,
    #[serde(default)]
    pub connected_ns: u64,
    #[serde(default)]
    pub connected_at: Option<String>,
    #[serde(default)]
    pub c1: u64,
    #[serde(default)]
    pub c2: u64,
    #[serde(default)]
    pub c3: u64,
    #[serde(default)]
    pub c4: u64,
    #[serde(default)]
    pub c5: u64,
    #[serde(default)]
    pub c6: u64,
    #[serde(default)]
    pub c7: u64,
    #[serde(default)]
    pub c8: u64,
    #[serde(default)]
    pub c9: u64,
    #[serde(default)]
    pub c10: u64,
}

/// Attribute holding a member's count of downline at `level`.
pub fn count_attr(level: u8) -> String {
    format!("c{level}")
}

impl MembershipItem {
    pub fn counts(&self) -> [u64; 10] {
        [
            self.c1, self.c2, self.c3, self.c4, self.c5, self.c6, self.c7, self.c8, self.c9,
            self.c10,
        ]
    }

    pub fn view(&self) -> Result<MemberView, StoreError> {
        Ok(MemberView {
            user: user_id(&self.user)?,
            referrer: self.referrer.as_deref().map(user_id).transpose()?,
            upline: self
                .upline
                .iter()
                .map(|u| user_id(u))
                .collect::<Result<_, _>>()?,
            root: user_id(&self.root)?,
            children: self.c1,
            connected_ns: self.connected_ns as u128,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Banned,
    Revoked,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Banned => "banned",
            UserStatus::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ProfileItem {
    pub user: String,
    pub status: UserStatus,
    pub created_at: String,
    /// Connections the user takes part in, as referee or referrer, across programs.
    #[serde(default)]
    pub links: u64,
    /// Codes the user owns, across programs.
    #[serde(default)]
    pub codes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CodeItem {
    pub code: String,
    pub network_id: String,
    pub program_id: String,
    pub owner: String,
    pub referrer_amount_usd_cents: u32,
    pub referee_amount_usd_cents: u32,
    pub max_referrals: u64,
    pub requires_jumio: bool,
    pub active: bool,
    #[serde(default)]
    pub total_referrals: u64,
    #[serde(default)]
    pub num_jumio_attempts: u64,
    #[serde(default)]
    pub num_jumio_successes: u64,
    #[serde(default)]
    pub total_referrer_deso_nanos: u64,
    #[serde(default)]
    pub total_referee_deso_nanos: u64,
    pub created_at: String,
    pub created_ns: u64,
}

impl TryFrom<CodeItem> for Code {
    type Error = StoreError;
    fn try_from(c: CodeItem) -> Result<Code, StoreError> {
        Ok(Code {
            code: ReferralCode::try_from(c.code.as_str()).map_err(|_| corrupt("code"))?,
            network: NetworkId::try_from(c.network_id.as_str()).map_err(|_| corrupt("network"))?,
            program: ProgramId::try_from(c.program_id.as_str()).map_err(|_| corrupt("program"))?,
            owner: user_id(&c.owner)?,
            referrer_amount_usd_cents: c.referrer_amount_usd_cents,
            referee_amount_usd_cents: c.referee_amount_usd_cents,
            max_referrals: c.max_referrals,
            requires_jumio: c.requires_jumio,
            active: c.active,
            total_referrals: c.total_referrals,
            num_jumio_attempts: c.num_jumio_attempts,
            num_jumio_successes: c.num_jumio_successes,
            total_referrer_deso_nanos: c.total_referrer_deso_nanos,
            total_referee_deso_nanos: c.total_referee_deso_nanos,
            created_at: c.created_at,
            created_ns: c.created_ns,
        })
    }
}

impl From<&Code> for CodeItem {
    fn from(c: &Code) -> Self {
        CodeItem {
            code: c.code.as_str().to_owned(),
            network_id: c.network.as_str().to_owned(),
            program_id: c.program.as_str().to_owned(),
            owner: c.owner.as_str().to_owned(),
            referrer_amount_usd_cents: c.referrer_amount_usd_cents,
            referee_amount_usd_cents: c.referee_amount_usd_cents,
            max_referrals: c.max_referrals,
            requires_jumio: c.requires_jumio,
            active: c.active,
            total_referrals: c.total_referrals,
            num_jumio_attempts: c.num_jumio_attempts,
            num_jumio_successes: c.num_jumio_successes,
            total_referrer_deso_nanos: c.total_referrer_deso_nanos,
            total_referee_deso_nanos: c.total_referee_deso_nanos,
            created_at: c.created_at.clone(),
            created_ns: c.created_ns,
        }
    }
}

pub fn code(item: Item) -> Result<Code, StoreError> {
    from_item::<CodeItem>(item)?.try_into()
}

/// Adds PK/SK (and any GSI keys) to a mapped item.
pub fn with_key(mut item: Item, key: &super::Key) -> Item {
    item.insert(super::keys::PK.into(), super::s(key.0.clone()));
    item.insert(super::keys::SK.into(), super::s(key.1.clone()));
    item
}
