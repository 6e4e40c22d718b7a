//! Bounded reads of many codes: a user's codes, a network's codes and a code's referred users,
//! each a page at a time, resuming after a sort key the caller hands back.

use aws_sdk_dynamodb::types::AttributeValue;

use super::CodeItem;
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{Code, NetworkId, ReferralCode, UserId};
use crate::store::table::SortKey;
use crate::store::{items, keys, Item, Store, StoreError};

/// A page of a listing and the sort key to resume after, when there is more.
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The code a user-codes index key (`<prog>#<code>`) names.
fn code_of_index_key(sk: &str) -> Result<ReferralCode, StoreError> {
    let code = sk.rsplit_once('#').map_or(sk, |(_, c)| c);
    ReferralCode::from_token(code).map_err(|_| items::corrupt("code index key"))
}

impl Store {
    /// Up to `limit` of a user's codes (in program, then code order) after index key `after`,
    /// with their totals.
    pub(crate) async fn user_codes_page(
        &self,
        net: &NetworkId,
        user: &UserId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Paged<Code>, StoreError> {
        let pk = keys::user_codes_partition(net, user);
        let start = match after {
            Some(sk) => {
                let (code_pk, code_sk) = keys::code(&code_of_index_key(sk)?);
                Some(Item::from([
                    (keys::GSI1PK.to_owned(), AttributeValue::S(pk.clone())),
                    (keys::GSI1SK.to_owned(), AttributeValue::S(sk.to_owned())),
                    (keys::PK.to_owned(), AttributeValue::S(code_pk)),
                    (keys::SK.to_owned(), AttributeValue::S(code_sk)),
                ]))
            }
            None => None,
        };
        // One more than asked says whether there is a next page.
        let want = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let (mut found, _) = self
            .query_index_page(&pk, &SortKey::All, start, Some(want))
            .await?;
        let more = found.len() > limit;
        found.truncate(limit);
        let next = match (more, found.last()) {
            (true, Some(last)) => items::text(last, keys::GSI1SK).map(str::to_owned),
            _ => None,
        };
        let codes: Vec<CodeItem> = found
            .into_iter()
            .map(items::from_item)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items: self.with_totals(codes).await?,
            next,
        })
    }

    /// Up to `limit` of a network's codes, oldest first, after index sort key `after`, with
    /// their totals.
    pub(crate) async fn network_codes_page(
        &self,
        net: &NetworkId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Paged<Code>, StoreError> {
        let pk = keys::network_codes_partition(net);
        let want = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let mut page = self
            .query_page(&pk, &SortKey::All, after.map(str::to_owned), Some(want))
            .await?;
        let more = page.items.len() > limit;
        page.items.truncate(limit);
        let next = match (more, page.items.last()) {
            (true, Some(last)) => items::text(last, keys::SK).map(str::to_owned),
            _ => None,
        };
        let wanted = page
            .items
            .iter()
            .filter_map(|i| items::text(i, "code"))
            .map(|c| ReferralCode::from_token(c).map_err(|_| items::corrupt("code index")))
            .collect::<Result<Vec<_>, _>>()?;
        let found = self.code_items(&wanted, true).await?;
        Ok(Paged {
            items: self.with_totals(found).await?,
            next,
        })
    }

    /// Up to `limit` of the users who joined through `code`, in the order they joined, after
    /// sort key `after`: each of the code's referral partitions is read from there, side by
    /// side, and the pages merged.
    pub(crate) async fn referred_users_page(
        &self,
        code: &ReferralCode,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Paged<String>, StoreError> {
        let want = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let parts = (0..EDGE_SHARDS).map(|s| {
            let pk = keys::code_referrals_partition(code, s);
            async move {
                self.query_page(&pk, &SortKey::All, after.map(str::to_owned), Some(want))
                    .await
            }
        });
        let mut rows: Vec<(String, String)> = Vec::new();
        for page in futures::future::try_join_all(parts).await? {
            for item in page.items {
                let sk = items::text(&item, keys::SK).unwrap_or_default().to_owned();
                if let Some(u) = items::text(&item, "user") {
                    rows.push((sk, u.to_owned()));
                }
            }
        }
        rows.sort();
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = match (more, rows.last()) {
            (true, Some((sk, _))) => Some(sk.clone()),
            _ => None,
        };
        Ok(Paged {
            items: rows.into_iter().map(|(_, u)| u).collect(),
            next,
        })
    }
}
