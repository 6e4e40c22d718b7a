//! Reading codes and their totals.

use std::collections::HashMap;

use super::{shard_keys, CodeItem, ShardItem};
use crate::domain::{Code, CodeTotals, NetworkId, ProgramId, ReferralCode, UserId};
use crate::store::{items, keys, Key, Store, StoreError};

impl Store {
    /// Code items by key, as one read saw them (strongly consistent or not).
    pub(crate) async fn code_items(
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
    pub(crate) async fn code_totals(
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
    pub(crate) async fn with_totals(&self, found: Vec<CodeItem>) -> Result<Vec<Code>, StoreError> {
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

    /// The code item `text` names in `net`: the code of that exact text, or else the chosen
    /// code of that name in any letter case. One BatchGetItem (strongly consistent); a second
    /// read only for a name in another case.
    pub(crate) async fn find_code(
        &self,
        net: &NetworkId,
        text: &ReferralCode,
    ) -> Result<Option<CodeItem>, StoreError> {
        let text = &text.in_network(net);
        let (exact, name) = (keys::code(text), keys::code_name(net, text));
        let mut got = self
            .batch_get_with(&[exact.clone(), name.clone()], true)
            .await?;
        let in_net = |c: &CodeItem| c.network_id == net.as_str();
        if let Some(item) = got.remove(&exact) {
            let c: CodeItem = items::from_item(item)?;
            if in_net(&c) {
                return Ok(Some(c));
            }
        }
        let Some(named) = got.remove(&name) else {
            return Ok(None);
        };
        let code = items::text(&named, "code")
            .and_then(|c| ReferralCode::from_token(c).ok())
            .ok_or_else(|| items::corrupt("code name"))?;
        if &code == text {
            return Ok(None);
        }
        let found = self.code_items(std::slice::from_ref(&code), true).await?;
        Ok(found.into_iter().find(in_net))
    }

    /// One code of `net`, with its totals; None when unknown there.
    pub(crate) async fn get_code(
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
    pub(crate) async fn user_code_items(
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
    pub(crate) async fn user_codes(
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
}
