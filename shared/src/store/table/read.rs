//! Reads: BatchGetItem in chunks, GetItem, and Query pages of the table or of GSI1.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::{built, dedup, item_key, key_item, s, Expr, Page, SortKey};
use crate::store::{classify, jitter, keys, Item, Key, Store, StoreError};

/// BatchGetItem calls one read keeps in flight: a listing of thousands of codes does not open
/// hundreds of connections at once.
const BATCHES_AT_ONCE: usize = 8;

impl Store {
    /// Strongly consistent (or not) BatchGetItem of any number of keys, 100 per call, up to
    /// `BATCHES_AT_ONCE` side by side; DynamoDB's unprocessed keys are asked again.
    pub(crate) async fn batch_get_with(
        &self,
        keys: &[Key],
        consistent: bool,
    ) -> Result<HashMap<Key, Item>, StoreError> {
        let keys = dedup(keys);
        let chunks: Vec<&[Key]> = keys.chunks(100).collect();
        let mut out = HashMap::new();
        for wave in chunks.chunks(BATCHES_AT_ONCE) {
            let calls = wave.iter().map(|c| self.batch_get_chunk(c, consistent));
            for part in futures::future::try_join_all(calls).await? {
                out.extend(part);
            }
        }
        Ok(out)
    }

    pub(crate) async fn batch_get(&self, keys: &[Key]) -> Result<HashMap<Key, Item>, StoreError> {
        self.batch_get_with(keys, true).await
    }

    async fn batch_get_chunk(
        &self,
        keys: &[Key],
        consistent: bool,
    ) -> Result<HashMap<Key, Item>, StoreError> {
        let mut out = HashMap::new();
        let mut pending: Vec<Item> = keys.iter().map(key_item).collect();
        let mut rounds = 0u32;
        while !pending.is_empty() {
            let req = built(
                KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(consistent)
                    .build(),
            )?;
            let resp = self
                .client
                .batch_get_item()
                .request_items(&self.table, req)
                .send()
                .await
                .map_err(classify)?;
            for item in resp
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                out.insert(item_key(&item)?, item);
            }
            if let Some(left) = resp
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
            {
                pending = left.keys;
                rounds += 1;
                if rounds > 8 {
                    return Err(StoreError::Unavailable("unprocessed keys persisted".into()));
                }
                tokio::time::sleep(jitter(Duration::from_millis(10 << rounds.min(5)))).await;
            }
        }
        Ok(out)
    }

    pub async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(resp.item)
    }

    /// One Query call on the table (strongly consistent) or on GSI1, from `start` (a
    /// LastEvaluatedKey); returns the items and the next LastEvaluatedKey.
    async fn query_raw(
        &self,
        gsi: bool,
        pk: &str,
        sort: &SortKey,
        start: Option<Item>,
        limit: Option<i32>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let index = gsi.then_some(keys::GSI1);
        self.query_on(index, pk, sort, start, limit).await
    }

    /// One Query call on the table or on the index named.
    pub(crate) async fn query_on(
        &self,
        index: Option<&'static str>,
        pk: &str,
        sort: &SortKey,
        start: Option<Item>,
        limit: Option<i32>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        self.query_dir(index, pk, sort, start, limit, true).await
    }

    /// One page of a table partition, highest sort key first, resuming after `start_sk`.
    pub(crate) async fn query_page_newest_first(
        &self,
        pk: &str,
        sort: &SortKey,
        start_sk: Option<String>,
        limit: Option<i32>,
    ) -> Result<Page, StoreError> {
        self.page_of(pk, sort, start_sk, limit, false).await
    }

    /// A page of a table partition in either order, resuming after `start_sk`.
    async fn page_of(
        &self,
        pk: &str,
        sort: &SortKey,
        start_sk: Option<String>,
        limit: Option<i32>,
        forward: bool,
    ) -> Result<Page, StoreError> {
        let start = start_sk.map(|sk| key_item(&(pk.to_owned(), sk)));
        let (items, last) = self
            .query_dir(None, pk, sort, start, limit, forward)
            .await?;
        let last_sk = match last {
            Some(k) => Some(item_key(&k)?.1),
            None => None,
        };
        Ok(Page { items, last_sk })
    }

    async fn query_dir(
        &self,
        index: Option<&'static str>,
        pk: &str,
        sort: &SortKey,
        start: Option<Item>,
        limit: Option<i32>,
        forward: bool,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let (pk_attr, sk_attr) = match index {
            None => (keys::PK, keys::SK),
            Some(keys::GSI2) => (keys::GSI2PK, keys::GSI2SK),
            Some(_) => (keys::GSI1PK, keys::GSI1SK),
        };
        let mut e = Expr::new();
        let mut kc = format!("{} = {}", e.n(pk_attr), e.v(s(pk)));
        match sort {
            SortKey::All => {}
            SortKey::Prefix(p) => kc.push_str(&format!(
                " AND begins_with({}, {})",
                e.n(sk_attr),
                e.v(s(p))
            )),
            SortKey::Below(b) => kc.push_str(&format!(" AND {} < {}", e.n(sk_attr), e.v(s(b)))),
            SortKey::Between(a, b) => kc.push_str(&format!(
                " AND {} BETWEEN {} AND {}",
                e.n(sk_attr),
                e.v(s(a)),
                e.v(s(b))
            )),
        }
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(kc)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .consistent_read(index.is_none())
            .scan_index_forward(forward)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        Ok((resp.items.unwrap_or_default(), resp.last_evaluated_key))
    }

    /// One page of a table partition, resuming after sort key `start_sk`.
    pub(crate) async fn query_page(
        &self,
        pk: &str,
        sort: &SortKey,
        start_sk: Option<String>,
        limit: Option<i32>,
    ) -> Result<Page, StoreError> {
        self.page_of(pk, sort, start_sk, limit, true).await
    }

    /// One page of a GSI1 partition, resuming after the index entry `start`.
    pub(crate) async fn query_index_page(
        &self,
        pk: &str,
        sort: &SortKey,
        start: Option<Item>,
        limit: Option<i32>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        self.query_raw(true, pk, sort, start, limit).await
    }

    /// Every item of one partition, page after page, of the table or of GSI1.
    pub(crate) async fn query_partition(
        &self,
        gsi: bool,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let sort = prefix.map_or(SortKey::All, |p| SortKey::Prefix(p.to_owned()));
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self.query_raw(gsi, pk, &sort, start, None).await?;
            out.extend(items);
            match last {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }
}
