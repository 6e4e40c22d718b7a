//! Referral codes: the code item (its config), and `CODE_SHARDS` counter shards.
//!
//! A connection through a code adds to one shard, in the connection's transaction, under that
//! shard's condition: active, and below its share of the cap (the shares sum to the cap, so the
//! cap stays exact) and before its expiry. Shards are created by their first write; whenever a
//! code is inactive, has an expiry or its config has changed, every shard exists, so a shard
//! created later never revives a code.
//!
//! A vanity code also has a name item, `CNAME#<net>#<code in lower case>`, put with the code in
//! one transaction under attribute_not_exists: that makes it unique in its network whatever its
//! letter case, and finds it whatever the case.
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
    /// When it stops counting, in ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
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
    /// The code's expiry, copied to every shard: a connection counts strictly before it.
    #[serde(default)]
    pub expires_ms: Option<u64>,
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

    /// Whether it takes no connection at `now_ms`.
    pub fn is_full(&self, now_ms: u64) -> bool {
        self.active == Some(false)
            || self.cap.is_some_and(|c| self.total_referrals >= c)
            || self.expires_ms.is_some_and(|e| now_ms >= e)
    }
}

impl CodeItem {
    /// What the shard picker knows the code by: unique across networks.
    pub fn fill_key(&self) -> String {
        format!("{}@{}", self.code, self.network_id)
    }

    /// The code, with its network when it is a vanity code.
    pub fn key(&self) -> Result<ReferralCode, StoreError> {
        let corrupt = |_| items::corrupt("code");
        let net = NetworkId::try_from(self.network_id.as_str()).map_err(corrupt)?;
        Ok(ReferralCode::try_from(self.code.as_str())
            .map_err(corrupt)?
            .in_network(&net))
    }

    /// Sets what the DeSo admin tools set: the config and the activity.
    pub fn set_config(&mut self, config: CodeConfig, active: bool) {
        self.referrer_amount_usd_cents = config.referrer_amount_usd_cents.get().into();
        self.referee_amount_usd_cents = config.referee_amount_usd_cents.get().into();
        self.max_referrals = config.max_referrals;
        self.requires_jumio = config.requires_jumio;
        self.active = active;
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
            expires_ms: self.expires_ms,
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
            expires_ms: code.expires_ms,
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

    /// A new code and its network index entry, refused if the code exists; a chosen (`named`)
    /// code has its name item third, refused if the network has the code in any letter case.
    /// An inactive or expiring code gets its shards at once, so no later write can create one
    /// active or without the expiry.
    pub(crate) fn new_code_items(
        &self,
        code: &Code,
        named: bool,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let index = items::with_key(
            Item::from([("code".to_owned(), s(code.code.key_token()))]),
            &keys::network_code(&code.network, code.created_ns, &code.code),
        );
        let mut tx = vec![
            self.tx_put(self.code_item(code)?, Some(&absent), &e, false)?,
            self.tx_put(index, None, &Expr::new(), false)?,
        ];
        if named {
            let name = items::with_key(
                Item::from([("code".to_owned(), s(code.code.key_token()))]),
                &keys::code_name(&code.network, &code.code),
            );
            tx.push(self.tx_put(name, Some(&absent), &e, false)?);
        }
        if !code.active || code.expires_ms.is_some() {
            tx.extend(
                self.code_activity_items(&CodeItem::of(code), code.active)?
                    .into_iter()
                    .skip(1),
            );
        }
        Ok(tx)
    }
}
