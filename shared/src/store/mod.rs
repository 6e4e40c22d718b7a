//! The only place that knows DynamoDB: key layout, item mapping, queries, transactions,
//! error classification.

pub mod api_keys;
pub mod codes;
pub mod deso;
pub mod items;
pub mod keys;
pub mod links;
pub mod metrics;
pub mod programs;
pub mod schema;
pub mod users;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, KeysAndAttributes, Put,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

pub use keys::Key;

pub type Item = HashMap<String, AttributeValue>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// DynamoDB's limit on the items of one transaction.
pub const MAX_TX_ITEMS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or unreachable: the client may retry later.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Conflicting writes kept winning until the request's budget ran out.
    #[error("contention did not clear within the retry budget")]
    Contention,
    /// A stored item that does not map to the domain.
    #[error("corrupt item: {0}")]
    Corrupt(String),
    #[error("dynamodb error")]
    Other(#[source] BoxError),
}

/// Throttling, timeouts and transport failures are transient; anything else is a defect.
pub fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => matches!(
            ctx.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "LimitExceededException"
            )
        ),
        _ => false,
    };
    if transient {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Other(Box::new(err))
    }
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// Cancelled: one reason per item, in order ("None" for items that were fine).
    Cancelled(Vec<CancellationReason>),
    Store(StoreError),
}

impl TxError {
    /// A cancelled transaction is tried again; a store failure is an error.
    pub fn retry<T>(self) -> Result<Attempt<T>, StoreError> {
        match self {
            TxError::Cancelled(_) => Ok(Attempt::Retry),
            TxError::Store(e) => Err(e),
        }
    }

    /// Item `i` failed its condition.
    pub fn condition_failed(reasons: &[CancellationReason], i: usize) -> bool {
        reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
    }
}

/// One attempt's outcome inside a retry loop.
pub enum Attempt<T> {
    Done(T),
    Retry,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    retry_budget: Duration,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, retry_budget: Duration) -> Self {
        Store {
            client,
            table: table.into(),
            retry_budget,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Runs `attempt` until it is done, with jittered backoff, within the retry budget.
    pub async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, StoreError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<Attempt<T>, StoreError>>,
    {
        let start = Instant::now();
        let mut n = 0u32;
        loop {
            if let Attempt::Done(v) = attempt(n).await? {
                return Ok(v);
            }
            n += 1;
            let cap = Duration::from_millis(5u64 << n.min(6));
            let wait = jitter(cap);
            if start.elapsed() + wait > self.retry_budget {
                return Err(StoreError::Contention);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Strongly consistent BatchGetItem of up to 100 keys; one round trip unless DynamoDB
    /// leaves keys unprocessed.
    pub async fn batch_get(&self, keys: &[Key]) -> Result<HashMap<Key, Item>, StoreError> {
        let mut out = HashMap::new();
        let mut pending: Vec<Item> = dedup(keys).into_iter().map(|k| key_item(&k)).collect();
        let mut rounds = 0u32;
        while !pending.is_empty() {
            let req = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Other(Box::new(e)))?;
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
                let key = item_key(&item)?;
                out.insert(key, item);
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

    /// Every item of one partition, page after page: of the table (strongly consistent) or
    /// of GSI1 (`gsi`), optionally only sort keys that begin with `prefix`.
    pub async fn query_partition(
        &self,
        gsi: bool,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let (pk_attr, sk_attr) = if gsi {
            (keys::GSI1PK, keys::GSI1SK)
        } else {
            (keys::PK, keys::SK)
        };
        let mut e = Expr::new();
        let mut kc = format!("{} = {}", e.n(pk_attr), e.v(s(pk)));
        if let Some(p) = prefix {
            kc.push_str(&format!(
                " AND begins_with({}, {})",
                e.n(sk_attr),
                e.v(s(p))
            ));
        }
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(gsi.then(|| keys::GSI1.to_owned()))
                .key_condition_expression(&kc)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .consistent_read(!gsi)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            out.extend(resp.items.unwrap_or_default());
            match resp.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
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

    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxError> {
        self.transact_with_token(items, None).await
    }

    /// A transaction with an idempotency token: a retry with the same token and items is
    /// applied once.
    pub async fn transact_with_token(
        &self,
        items: Vec<TransactWriteItem>,
        token: Option<String>,
    ) -> Result<(), TxError> {
        let resp = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .set_client_request_token(token)
            .send()
            .await;
        match resp {
            Ok(_) => Ok(()),
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
}

fn jitter(cap: Duration) -> Duration {
    let mut b = [0u8; 2];
    let r = if getrandom::fill(&mut b).is_ok() {
        u16::from_le_bytes(b) as u64
    } else {
        u16::MAX as u64 / 2
    };
    Duration::from_micros(cap.as_micros() as u64 * (r + 1) / (u16::MAX as u64 + 1))
        .max(Duration::from_millis(1))
}

fn dedup(keys: &[Key]) -> Vec<Key> {
    let mut seen = std::collections::HashSet::new();
    keys.iter().filter(|k| seen.insert(*k)).cloned().collect()
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

pub(crate) fn built<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Other(Box::new(e)))
}

/// Builders of transaction items against this table.
impl Store {
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
            .set_expression_attribute_values(expr.values());
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
            .set_expression_attribute_values(expr.values());
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
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        Ok(TransactWriteItem::builder()
            .delete(built(b.build())?)
            .build())
    }
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn service_error(code: &str) -> SdkError<GetItemError, Response> {
        let err = GetItemError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn throttling_is_transient_and_validation_is_not() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "InternalServerError",
        ] {
            assert!(
                matches!(classify(service_error(code)), StoreError::Unavailable(_)),
                "{code}"
            );
        }
        for code in [
            "ValidationException",
            "ResourceNotFoundException",
            "AccessDeniedException",
        ] {
            assert!(
                matches!(classify(service_error(code)), StoreError::Other(_)),
                "{code}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_its_cap() {
        for _ in 0..100 {
            let j = jitter(Duration::from_millis(40));
            assert!(j <= Duration::from_millis(40) && j >= Duration::from_millis(1));
        }
    }
}
