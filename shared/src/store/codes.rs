//! Referral codes: the code item (its config), and `CODE_SHARDS` counter shards.
//!
//! A connection through a code adds to one shard, in the connection's transaction, under that
//! shard's condition: active, and below its share of the cap (the shares sum to the cap, so the
//! cap stays exact). Shards are created by their first write; whenever a code is inactive or
//! its config has changed, every shard exists, so a shard created later never revives a code.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{items, keys, n, s, Expr, Item, Key, Store, StoreError};
use crate::domain::code::CreditAdds;
use crate::domain::shards::{split_cap, CODE_SHARDS};
use crate::domain::{Code, CodeConfig, CodeTotals, NetworkId, ProgramId, ReferralCode, UserId};

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
    /// A shard write for one connection (or begin): creates the shard when new, with the
    /// code's state as read; a connection needs it active and below its share of the cap.
    pub fn shard_count_item(
        &self,
        code: &CodeItem,
        shard: usize,
        adds: ShardAdds,
    ) -> Result<TransactWriteItem, StoreError> {
        let c = code.key()?;
        let mut e = Expr::new();
        let active = e.n("active");
        let mut sets = vec![format!(
            "{active} = if_not_exists({active}, {})",
            e.v(AttributeValue::Bool(code.active))
        )];
        if let Some(caps) = code.shard_caps() {
            let cap = e.n("cap");
            sets.push(format!(
                "{cap} = if_not_exists({cap}, {})",
                e.v(n(caps[shard]))
            ));
        }
        let mut add = Vec::new();
        let mut one = |e: &mut Expr, attr: &str, k: u64| {
            add.push(format!("{} {}", e.n(attr), e.v(n(k))));
        };
        if adds.referral {
            one(&mut e, "total_referrals", 1);
        }
        if adds.attempt {
            one(&mut e, "num_jumio_attempts", 1);
        }
        if let Some(credit) = adds.credit {
            one(&mut e, "num_jumio_successes", 1);
            one(
                &mut e,
                "total_referee_deso_nanos",
                credit.referee_deso_nanos,
            );
            one(
                &mut e,
                "total_referrer_deso_nanos",
                credit.referrer_deso_nanos,
            );
        }
        let mut update = format!("SET {}", sets.join(", "));
        if !add.is_empty() {
            update.push_str(&format!(" ADD {}", add.join(", ")));
        }
        // A shard that has counted nothing yet has no total: it takes one when its cap is one
        // or more.
        let cond = adds.referral.then(|| {
            let t = e.v(AttributeValue::Bool(true));
            let zero = e.v(n(0));
            let (cap, total) = (e.n("cap"), e.n("total_referrals"));
            format!(
                "attribute_not_exists({pk}) OR ({active} = {t} AND (attribute_not_exists({cap}) \
                 OR (attribute_not_exists({total}) AND {cap} > {zero}) OR {total} < {cap}))",
                pk = e.n(keys::PK)
            )
        });
        self.tx_update(&keys::code_shard(&c, shard), &update, cond.as_deref(), &e)
    }

    /// Sets a code active or not: the code item and every shard, in one transaction.
    pub fn code_activity_items(
        &self,
        code: &CodeItem,
        active: bool,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let c = code.key()?;
        let mut e = Expr::new();
        let set = format!(
            "SET {} = {}",
            e.n("active"),
            e.v(AttributeValue::Bool(active))
        );
        let mut tx = vec![self.tx_update(&keys::code(&c), &set, None, &e)?];
        let caps = code.shard_caps();
        for k in 0..CODE_SHARDS {
            let mut e = Expr::new();
            let mut update = format!(
                "SET {} = {}",
                e.n("active"),
                e.v(AttributeValue::Bool(active))
            );
            if let Some(caps) = &caps {
                let cap = e.n("cap");
                update.push_str(&format!(
                    ", {cap} = if_not_exists({cap}, {})",
                    e.v(n(caps[k]))
                ));
            }
            tx.push(self.tx_update(&keys::code_shard(&c, k), &update, None, &e)?);
        }
        Ok(tx)
    }

    /// Reads every shard of `code` (one BatchGetItem) and marks the full ones, so that a
    /// process that found one full shard knows at once whether any has room.
    pub async fn learn_code_fill(&self, code: &CodeItem) -> Result<(), StoreError> {
        let c = code.key()?;
        let wanted = shard_keys(&c);
        let mut got = self.batch_get(&wanted).await?;
        let caps = code.shard_caps();
        let mut full = Vec::new();
        for (k, key) in wanted.iter().enumerate() {
            let is_full = match got.remove(key) {
                Some(item) => items::from_item::<ShardItem>(item)?.is_full(),
                // created by its first write, with the config's share of the cap
                None => !code.active || caps.as_ref().is_some_and(|c| c[k] == 0),
            };
            if is_full {
                full.push(k);
            }
        }
        self.picker().mark_full(&code.code, code.cfg_version, full);
        Ok(())
    }

    /// Code items by key, as one read saw them (strongly consistent or not).
    pub async fn code_items(
        &self,
        codes: &[ReferralCode],
        consistent: bool,
    ) -> Result<Vec<CodeItem>, StoreError> {
        let wanted: Vec<Key> = codes.iter().map(keys::code).collect();
        let mut got = self.batch_get_with(&wanted, consistent).await?;
        wanted
            .iter()
            .filter_map(|k| got.remove(k))
            .map(items::from_item)
            .collect()
    }

    /// The totals of each code, summed over its shards (eventually consistent: a count may
    /// trail a connection by under a second).
    pub async fn code_totals(
        &self,
        codes: &[ReferralCode],
    ) -> Result<HashMap<ReferralCode, CodeTotals>, StoreError> {
        let wanted: Vec<Key> = codes.iter().flat_map(shard_keys).collect();
        let got = self.batch_get_with(&wanted, false).await?;
        let mut out: HashMap<ReferralCode, CodeTotals> = codes
            .iter()
            .map(|c| (c.clone(), CodeTotals::default()))
            .collect();
        for c in codes {
            for k in shard_keys(c) {
                if let Some(item) = got.get(&k) {
                    let shard: ShardItem = items::from_item(item.clone())?;
                    if let Some(t) = out.get_mut(c) {
                        *t += shard.totals();
                    }
                }
            }
        }
        Ok(out)
    }

    /// Codes with their totals, in the order of `found`.
    pub async fn with_totals(&self, found: Vec<CodeItem>) -> Result<Vec<Code>, StoreError> {
        let keys = found
            .iter()
            .map(CodeItem::key)
            .collect::<Result<Vec<_>, _>>()?;
        let mut totals = self.code_totals(&keys).await?;
        found
            .into_iter()
            .zip(keys)
            .map(|(c, k)| c.into_code(totals.remove(&k).unwrap_or_default()))
            .collect()
    }

    /// One code of `net`, with its totals; None when unknown there.
    pub async fn get_code(
        &self,
        net: &NetworkId,
        code: &ReferralCode,
    ) -> Result<Option<Code>, StoreError> {
        let found = self.code_items(std::slice::from_ref(code), true).await?;
        let found: Vec<CodeItem> = found
            .into_iter()
            .filter(|c| c.network_id == net.as_str())
            .collect();
        Ok(self.with_totals(found).await?.pop())
    }

    /// A user's code items in one program, or in all programs of the network, oldest first.
    pub async fn user_code_items(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<Vec<CodeItem>, StoreError> {
        let mut out: Vec<CodeItem> = self
            .query_partition(true, &keys::user_codes_partition(net, user), None)
            .await?
            .into_iter()
            .map(items::from_item)
            .collect::<Result<_, _>>()?;
        out.sort_by_key(|c| c.created_ns);
        Ok(out)
    }

    /// A user's codes with their totals, in one program or all, oldest first.
    pub async fn user_codes(
        &self,
        net: &NetworkId,
        user: &UserId,
        prog: Option<&ProgramId>,
    ) -> Result<Vec<Code>, StoreError> {
        let found = self
            .user_code_items(net, user)
            .await?
            .into_iter()
            .filter(|c| prog.is_none_or(|p| c.program_id == p.as_str()))
            .collect();
        self.with_totals(found).await
    }

    /// The code item with its GSI keys, ready to Put.
    pub fn code_item(&self, code: &Code) -> Result<Item, StoreError> {
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
    pub fn new_code_items(&self, code: &Code) -> Result<Vec<TransactWriteItem>, StoreError> {
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
