//! Writes: transactions, their items, and packing groups of items into transactions.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use super::{built, key_item, Expr};
use crate::store::idempotency::OnTransact;
use crate::store::{classify, Item, Key, Store, StoreError, TxError};

impl Store {
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxError> {
        self.transact_with_token(items, None).await
    }

    /// A transaction with an idempotency token: a retry with the same token and items is
    /// applied once. Within a request that carries an `Idempotency-Key`, its scope decides
    /// (`on_transact`): held back for the answer, or sent under the lease.
    pub(crate) async fn transact_with_token(
        &self,
        items: Vec<TransactWriteItem>,
        token: Option<String>,
    ) -> Result<(), TxError> {
        match self.on_transact(items).map_err(TxError::Store)? {
            OnTransact::Held => Ok(()),
            OnTransact::Send { items, guarded } => {
                let guard = items.len() - 1;
                match self.send_transaction(items, token).await {
                    Err(TxError::Cancelled(r))
                        if guarded && TxError::condition_failed(&r, guard) =>
                    {
                        Err(TxError::Store(StoreError::LeaseLost))
                    }
                    other => other,
                }
            }
        }
    }

    /// Sends one TransactWriteItems; the write capacity it consumed is added to the store's
    /// tally.
    pub(crate) async fn send_transaction(
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

    pub(crate) fn tx_put(
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

    pub(crate) fn tx_update(
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

    pub(crate) fn tx_check(
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

    pub(crate) fn tx_delete(
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
            Some(last) if last.len() + g.len() <= crate::store::MAX_TX_ITEMS => last.extend(g),
            _ => out.push(g),
        }
    }
    out
}

/// A single write's outcome: Some when it applied, None when its condition failed.
fn conditional<T, E, R>(sent: Result<T, SdkError<E, R>>) -> Result<Option<T>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match sent {
        Ok(out) => Ok(Some(out)),
        Err(err)
            if err.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(err) => Err(classify(err)),
    }
}

impl Store {
    /// One UpdateItem (a plain write: 1 unit, not a transaction's 2); the item as written, or
    /// None when `cond` failed.
    pub(crate) async fn update_if(
        &self,
        key: &Key,
        update: &str,
        cond: Option<&str>,
        e: &Expr,
    ) -> Result<Option<Item>, StoreError> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .update_expression(update)
            .set_condition_expression(cond.map(str::to_owned))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        Ok(conditional(sent)?.map(|out| out.attributes.unwrap_or_default()))
    }

    /// One UpdateItem whose result is only whether it applied: false when `cond` failed.
    /// Within a request that carries an `Idempotency-Key` it is a transaction of one, so it
    /// can carry the answer.
    pub(crate) async fn update_applies(
        &self,
        key: &Key,
        update: &str,
        cond: &str,
        e: &Expr,
    ) -> Result<bool, StoreError> {
        if !crate::store::idempotency::in_scope() {
            return Ok(self.update_if(key, update, Some(cond), e).await?.is_some());
        }
        let update = self.tx_update(key, update, Some(cond), e)?;
        Ok(self.one_in_transaction(update).await?.is_none())
    }

    /// One write as a transaction of one, which a request's idempotency scope can hold back:
    /// None when it applied, the stored item (empty if none came back) when its condition
    /// failed.
    async fn one_in_transaction(&self, w: TransactWriteItem) -> Result<Option<Item>, StoreError> {
        match self.transact(vec![w]).await {
            Ok(()) => Ok(None),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                Ok(Some(TxError::old_item(&r, 0).cloned().unwrap_or_default()))
            }
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// One PutItem under `cond`; the stored item when the condition failed. Within a request
    /// that carries an `Idempotency-Key` it is a transaction of one, so it can carry the answer.
    pub(crate) async fn put_new(
        &self,
        item: Item,
        cond: &str,
        e: &Expr,
    ) -> Result<Option<Item>, StoreError> {
        if crate::store::idempotency::in_scope() {
            let put = self.tx_put(item, Some(cond), e, true)?;
            return match self.one_in_transaction(put).await? {
                Some(old) if old.is_empty() => Err(StoreError::Contention),
                other => Ok(other),
            };
        }
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(None),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => c
                    .item()
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| StoreError::Corrupt("a failed put without its item".into())),
                _ => Err(classify(err)),
            },
        }
    }

    /// One PutItem; false when `cond` failed. Within a request that carries an
    /// `Idempotency-Key` it is a transaction of one, so it can carry the answer.
    pub(crate) async fn put_if(
        &self,
        item: Item,
        cond: Option<&str>,
        e: &Expr,
    ) -> Result<bool, StoreError> {
        if crate::store::idempotency::in_scope() {
            let put = self.tx_put(item, cond, e, false)?;
            return Ok(self.one_in_transaction(put).await?.is_none());
        }
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(cond.map(str::to_owned))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await;
        Ok(conditional(sent)?.is_some())
    }
}
