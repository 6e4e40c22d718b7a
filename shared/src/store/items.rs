//! Item mapping between DynamoDB and the domain.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::{Item, StoreError};
use crate::domain::{Level, Program, ProgramId, UserId};

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn to_item<T: Serialize>(v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn corrupt(what: &str) -> StoreError {
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
            max_levels: Level::new(p.max_levels).ok_or_else(|| corrupt("max_levels"))?,
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
            max_levels: p.max_levels.get(),
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

/// Adds PK/SK to a mapped item.
pub fn with_key(mut item: Item, key: &super::Key) -> Item {
    item.insert(super::keys::PK.into(), super::s(key.0.clone()));
    item.insert(super::keys::SK.into(), super::s(key.1.clone()));
    item
}

/// A number attribute, 0 when absent.
pub fn num(item: &Item, attr: &str) -> u64 {
    match item.get(attr) {
        Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A number attribute that may be negative; 0 when absent.
pub fn signed(item: &Item, attr: &str) -> i64 {
    match item.get(attr) {
        Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A string attribute, when present.
pub fn text<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    match item.get(attr) {
        Some(aws_sdk_dynamodb::types::AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}
