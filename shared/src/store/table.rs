//! Table operations every store module shares: reads, queries, transactions and their item
//! builders, expression placeholders.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::{classify, jitter, keys, Item, Key, Store, StoreError, TxError};

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.0.clone())),
        (keys::SK.to_owned(), AttributeValue::S(key.1.clone())),
    ])
}

pub fn item_key(item: &Item) -> Result<Key, StoreError> {
    match (item.get(keys::PK), item.get(keys::SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Ok((pk.clone(), sk.clone())),
        _ => Err(StoreError::Corrupt("item without PK/SK".into())),
    }
}

fn dedup(keys: &[Key]) -> Vec<Key> {
    let mut seen = HashSet::new();
    keys.iter().filter(|k| seen.insert(*k)).cloned().collect()
}

pub(crate) fn built<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Other(Box::new(e)))
}

/// Condition and update expressions with their placeholders.
#[derive(Default, Debug, Clone)]
pub struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new() -> Self {
        Self::default()
    }
    /// `#name` placeholder for an attribute.
    pub fn n(&mut self, attr: &str) -> String {
        let p = format!(
            "#{}",
            attr.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        self.names.insert(p.clone(), attr.to_owned());
        p
    }
    /// `:vN` placeholder for a value.
    pub fn v(&mut self, value: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), value);
        p
    }
    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    pub(crate) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// The key condition of a Query on one partition.
#[derive(Clone, Debug)]
pub enum SortKey {
    All,
    Prefix(String),
    /// Sort keys strictly below this one.
    Below(String),
}

/// One page of a Query.
pub struct Page {
    pub items: Vec<Item>,
    /// Sort key to resume after, when there is more.
    pub last_sk: Option<String>,
}

/// BatchGetItem calls one read keeps in flight: a listing of thousands of codes does not open
/// hundreds of connections at once.
const BATCHES_AT_ONCE: usize = 8;

impl Store {
    /// Strongly consistent (or not) BatchGetItem of any number of keys, 100 per call, up to
    /// `BATCHES_AT_ONCE` side by side; DynamoDB's unprocessed keys are asked again.
    pub async fn batch_get_with(
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

    pub async fn batch_get(&self, keys: &[Key]) -> Result<HashMap<Key, Item>, StoreError> {
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
        let (pk_attr, sk_attr) = if gsi {
            (keys::GSI1PK, keys::GSI1SK)
        } else {
            (keys::PK, keys::SK)
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
        }
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(gsi.then(|| keys::GSI1.to_owned()))
            .key_condition_expression(kc)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .consistent_read(!gsi)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        Ok((resp.items.unwrap_or_default(), resp.last_evaluated_key))
    }

    /// One page of a table partition, resuming after sort key `start_sk`.
    pub async fn query_page(
        &self,
        pk: &str,
        sort: &SortKey,
        start_sk: Option<String>,
        limit: Option<i32>,
    ) -> Result<Page, StoreError> {
        let start = start_sk.map(|sk| key_item(&(pk.to_owned(), sk)));
        let (items, last) = self.query_raw(false, pk, sort, start, limit).await?;
        let last_sk = match last {
            Some(k) => Some(item_key(&k)?.1),
            None => None,
        };
        Ok(Page { items, last_sk })
    }

    /// One page of a GSI1 partition, resuming after the index entry `start`.
    pub async fn query_index_page(
        &self,
        pk: &str,
        sort: &SortKey,
        start: Option<Item>,
        limit: Option<i32>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        self.query_raw(true, pk, sort, start, limit).await
    }

    /// Every item of one partition, page after page, of the table or of GSI1.
    pub async fn query_partition(
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

    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxError> {
        self.transact_with_token(items, None).await
    }

    /// A transaction with an idempotency token: a retry with the same token and items is
    /// applied once. The write capacity it consumed is added to the store's tally.
    pub async fn transact_with_token(
        &self,
        items: Vec<TransactWriteItem>,
        token: Option<String>,
    ) -> Result<(), TxError> {
        let count = items.len();
        let resp = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .set_client_request_token(token)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match resp {
            Ok(out) => {
                let wcu: f64 = out
                    .consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum();
                self.capacity.add(wcu, count);
                Ok(())
            }
            Err(SdkError::ServiceError(ctx)) if ctx.err().is_transaction_canceled_exception() => {
                let reasons = match ctx.into_err() {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
                        e.cancellation_reasons().to_vec()
                    }
                    _ => Vec::new(),
                };
                Err(TxError::Cancelled(reasons))
            }
            Err(SdkError::ServiceError(ctx))
                if ctx.err().is_transaction_in_progress_exception()
                    || ctx.err().code() == Some("TransactionConflictException") =>
            {
                Err(TxError::Cancelled(Vec::new()))
            }
            Err(e) => Err(TxError::Store(classify(e))),
        }
    }

    pub fn tx_put(
        &self,
        item: Item,
        cond: Option<&str>,
        expr: &Expr,
        return_old_on_fail: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut b = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(cond.map(str::to_owned))
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values());
        if return_old_on_fail {
            b = b.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder().put(built(b.build())?).build())
    }

    pub fn tx_update(
        &self,
        key: &Key,
        update: &str,
        cond: Option<&str>,
        expr: &Expr,
    ) -> Result<TransactWriteItem, StoreError> {
        let b = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .update_expression(update)
            .set_condition_expression(cond.map(str::to_owned))
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .set_return_values_on_condition_check_failure(old_on_fail(cond));
        Ok(TransactWriteItem::builder()
            .update(built(b.build())?)
            .build())
    }

    pub fn tx_check(
        &self,
        key: &Key,
        cond: &str,
        expr: &Expr,
    ) -> Result<TransactWriteItem, StoreError> {
        let b = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .condition_expression(cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        Ok(TransactWriteItem::builder()
            .condition_check(built(b.build())?)
            .build())
    }

    pub fn tx_delete(
        &self,
        key: &Key,
        cond: Option<&str>,
        expr: &Expr,
    ) -> Result<TransactWriteItem, StoreError> {
        let b = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .set_condition_expression(cond.map(str::to_owned))
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .set_return_values_on_condition_check_failure(old_on_fail(cond));
        Ok(TransactWriteItem::builder()
            .delete(built(b.build())?)
            .build())
    }
}

/// The stored item comes back when a condition fails; there is nothing to ask without one.
fn old_on_fail(cond: Option<&str>) -> Option<ReturnValuesOnConditionCheckFailure> {
    cond.map(|_| ReturnValuesOnConditionCheckFailure::AllOld)
}

/// Transactions of at most `MAX_TX_ITEMS`, keeping each group of items that must commit
/// together in one transaction.
pub fn pack(groups: Vec<Vec<TransactWriteItem>>) -> Vec<Vec<TransactWriteItem>> {
    let mut out: Vec<Vec<TransactWriteItem>> = Vec::new();
    for g in groups {
        match out.last_mut() {
            Some(last) if last.len() + g.len() <= super::MAX_TX_ITEMS => last.extend(g),
            _ => out.push(g),
        }
    }
    out
}
