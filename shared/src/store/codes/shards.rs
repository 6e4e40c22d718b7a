//! A code's counter shards: a connection's or a begin's write, turning them on or off, and
//! learning which are full.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::{shard_keys, CodeItem, ShardAdds, ShardItem};
use crate::domain::shards::CODE_SHARDS;
use crate::domain::ReferralCode;
use crate::store::{items, keys, n, Expr, Store, StoreError};

impl Store {
    /// A shard write for one connection (or begin) at `now_ms`: creates the shard when new,
    /// with the code's state as read; a connection needs it active, below its share of the cap
    /// and before its expiry.
    pub(crate) fn shard_count_item(
        &self,
        code: &CodeItem,
        shard: usize,
        adds: ShardAdds,
        now_ms: u64,
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
        // or more. A code with an expiry has every shard, so a new shard has none to check.
        let cond = adds.referral.then(|| {
            let t = e.v(AttributeValue::Bool(true));
            let zero = e.v(n(0));
            let now = e.v(n(now_ms));
            let (cap, total, exp) = (e.n("cap"), e.n("total_referrals"), e.n("expires_ms"));
            format!(
                "attribute_not_exists({pk}) OR ({active} = {t} \
                 AND (attribute_not_exists({exp}) OR {exp} > {now}) \
                 AND (attribute_not_exists({cap}) \
                 OR (attribute_not_exists({total}) AND {cap} > {zero}) OR {total} < {cap}))",
                pk = e.n(keys::PK)
            )
        });
        self.tx_update(&keys::code_shard(&c, shard), &update, cond.as_deref(), &e)
    }

    /// Sets a code active or not: the code item and every shard, in one transaction.
    pub(crate) fn code_activity_items(
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
            if let Some(ms) = code.expires_ms {
                let exp = e.n("expires_ms");
                update.push_str(&format!(", {exp} = if_not_exists({exp}, {})", e.v(n(ms))));
            }
            tx.push(self.tx_update(&keys::code_shard(&c, k), &update, None, &e)?);
        }
        Ok(tx)
    }

    /// Reads every shard of `code` (one BatchGetItem) and marks the full ones, so that a
    /// process that found one full shard knows at once whether any has room.
    pub(crate) async fn learn_code_fill(&self, code: &CodeItem) -> Result<(), StoreError> {
        let c = code.key()?;
        let wanted = shard_keys(&c);
        let mut got = self.batch_get(&wanted).await?;
        let caps = code.shard_caps();
        let now = crate::clock::now_ms();
        let mut full = Vec::new();
        for (k, key) in wanted.iter().enumerate() {
            let is_full = match got.remove(key) {
                Some(item) => items::from_item::<ShardItem>(item)?.is_full(now),
                // created by its first write, with the config's share of the cap
                None => !code.active || caps.as_ref().is_some_and(|c| c[k] == 0),
            };
            if is_full {
                full.push(k);
            }
        }
        self.picker()
            .mark_full(&code.fill_key(), code.cfg_version, full);
        Ok(())
    }

    /// The code, if its shards have reached a positive cap (one BatchGetItem).
    pub async fn code_if_full(&self, code: &ReferralCode) -> Result<Option<CodeItem>, StoreError> {
        let ck = keys::code(code);
        let mut wanted = vec![ck.clone()];
        wanted.extend(shard_keys(code));
        let mut got = self.batch_get(&wanted).await?;
        let Some(item) = got.remove(&ck) else {
            return Ok(None);
        };
        let c: CodeItem = items::from_item(item)?;
        let mut total = 0;
        for shard in got.into_values() {
            total += items::from_item::<ShardItem>(shard)?.total_referrals;
        }
        Ok((c.max_referrals > 0 && total >= c.max_referrals).then_some(c))
    }
}
