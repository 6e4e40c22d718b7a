//! Referral codes: the code item (its config), and `CODE_SHARDS` counter shards.
//!
//! A connection through a code adds to one shard, in the connection's transaction, under that
//! shard's condition: active, and below its share of the cap (the shares sum to the cap, so the
//! cap stays exact). Shards are created by their first write; whenever a code is inactive or
//! its config has changed, every shard exists, so a shard created later never revives a code.
//!
//! Here: the items. `shards`: the counter writes; `reads`, `writes`, `pages`: the rest.

mod pages;
mod reads;
mod shards;
mod writes;

pub use pages::Paged;
pub use writes::{CreateOutcome, DefaultCode};

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use crate::domain::code::CreditAdds;
use crate::domain::shards::{split_cap, CODE_SHARDS};
use crate::domain::{Code, CodeConfig, CodeTotals, NetworkId, ProgramId, ReferralCode};
use crate::store::{items, keys, s, Expr, Item, Key, Store, StoreError};

/// The code item: everything but the counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeItem {
    pub code: String,
    pub network_id: String,
    pub program_id: String,
    pub owner: String,
    pub referrer_amount_usd_cents: i64,
    pub referee_amount_usd_cents: i64,
    pub max_referrals: u64,
    pub requires_jumio: bool,
    pub active: bool,
    pub created_at: String,
    pub created_ns: u64,
    /// Bumped by every config change: a shard seen full is full under one version only.
    #[serde(default)]
    pub cfg_version: u64,
}

/// One counter shard.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ShardItem {
    #[serde(default)]
    pub active: Option<bool>,
    /// This shard's share of a positive cap; absent when the code is uncapped.
    #[serde(default)]
    pub cap: Option<u64>,
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
}

impl ShardItem {
    pub fn totals(&self) -> CodeTotals {
        CodeTotals {
            total_referrals: self.total_referrals,
            num_jumio_attempts: self.num_jumio_attempts,
            num_jumio_successes: self.num_jumio_successes,
            total_referrer_deso_nanos: self.total_referrer_deso_nanos,
            total_referee_deso_nanos: self.total_referee_deso_nanos,
        }
    }

    pub fn is_full(&self) -> bool {
        self.active == Some(false) || self.cap.is_some_and(|c| self.total_referrals >= c)
    }
}

impl CodeItem {
    pub fn key(&self) -> Result<ReferralCode, StoreError> {
        ReferralCode::try_from(self.code.as_str()).map_err(|_| items::corrupt("code"))
    }

    /// The shard caps of the code's config; None when uncapped.
    pub fn shard_caps(&self) -> Option<Vec<u64>> {
        (self.max_referrals > 0).then(|| split_cap(self.max_referrals, CODE_SHARDS))
    }

    /// The domain code, with `totals` summed from its shards.
    pub fn into_code(self, totals: CodeTotals) -> Result<Code, StoreError> {
        let amount = |v: i64| v.try_into().map_err(|_| items::corrupt("amount"));
        Ok(Code {
            code: self.key()?,
            network: NetworkId::try_from(self.network_id.as_str())
                .map_err(|_| items::corrupt("network"))?,
            program: ProgramId::try_from(self.program_id.as_str())
                .map_err(|_| items::corrupt("program"))?,
            owner: items::user_id(&self.owner)?,
            config: CodeConfig {
                referrer_amount_usd_cents: amount(self.referrer_amount_usd_cents)?,
                referee_amount_usd_cents: amount(self.referee_amount_usd_cents)?,
                max_referrals: self.max_referrals,
                requires_jumio: self.requires_jumio,
            },
            active: self.active,
            totals,
            created_at: self.created_at,
            created_ns: self.created_ns,
        })
    }

    pub fn of(code: &Code) -> CodeItem {
        CodeItem {
            code: code.code.as_str().to_owned(),
            network_id: code.network.as_str().to_owned(),
            program_id: code.program.as_str().to_owned(),
            owner: code.owner.as_str().to_owned(),
            referrer_amount_usd_cents: code.config.referrer_amount_usd_cents.get().into(),
            referee_amount_usd_cents: code.config.referee_amount_usd_cents.get().into(),
            max_referrals: code.config.max_referrals,
            requires_jumio: code.config.requires_jumio,
            active: code.active,
            created_at: code.created_at.clone(),
            created_ns: code.created_ns,
            cfg_version: 0,
        }
    }
}

pub fn shard_keys(code: &ReferralCode) -> Vec<Key> {
    (0..CODE_SHARDS)
        .map(|k| keys::code_shard(code, k))
        .collect()
}

/// What one write adds to a code shard.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShardAdds {
    /// A connection through the code: it needs the shard active and below its cap.
    pub referral: bool,
    pub attempt: bool,
    pub credit: Option<CreditAdds>,
}

impl Store {
    /// The code item with its GSI keys, ready to Put.
    pub(crate) fn code_item(&self, code: &Code) -> Result<Item, StoreError> {
        let mut item = items::with_key(
            items::to_item(&CodeItem::of(code))?,
            &keys::code(&code.code),
        );
        item.insert(
            keys::GSI1PK.into(),
            s(keys::user_codes_partition(&code.network, &code.owner)),
        );
        item.insert(
            keys::GSI1SK.into(),
            s(keys::user_codes_sort(&code.program, &code.code)),
        );
        Ok(item)
    }

    /// A new code and its network index entry, refused if the code exists. An inactive code
    /// gets its shards at once, so no later write can create one active.
    pub(crate) fn new_code_items(&self, code: &Code) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let index = items::with_key(
            Item::from([("code".to_owned(), s(code.code.as_str()))]),
            &keys::network_code(&code.network, code.created_ns, &code.code),
        );
        let mut tx = vec![
            self.tx_put(self.code_item(code)?, Some(&absent), &e, false)?,
            self.tx_put(index, None, &Expr::new(), false)?,
        ];
        if !code.active {
            tx.extend(
                self.code_activity_items(&CodeItem::of(code), false)?
                    .into_iter()
                    .skip(1),
            );
        }
        Ok(tx)
    }
}
