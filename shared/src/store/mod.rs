//! The only place that knows DynamoDB: key layout, item mapping, queries, transactions,
//! error classification. One module per kind of item.

pub mod aggregate;
pub mod api_keys;
pub mod boards;
pub mod check;
pub mod codes;
pub mod counts;
pub mod deso;
pub mod graph;
pub mod idempotency;
pub mod items;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod programs;
pub mod repair;
pub mod rewards;
pub mod schema;
pub mod shards;
pub mod table;
pub mod users;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_sdk_dynamodb::Client;

pub use keys::Key;
pub use table::{n, s, Expr};

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
    /// The request's idempotency lease was taken over: it may not write.
    #[error("the idempotency lease was lost")]
    LeaseLost,
    /// A call came after a write held back for its answer: the request runs again.
    #[error("a held-back write must be sent first")]
    Deferred,
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
    /// Cancelled: one reason per item, in order ("None" for items that were fine). Empty when
    /// DynamoDB gave none (a conflict with a single-item write).
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

    /// Item `i` was held by another transaction.
    pub fn conflicted(reasons: &[CancellationReason], i: usize) -> bool {
        reasons.get(i).and_then(|r| r.code()) == Some("TransactionConflict")
    }

    /// The stored item at `i` when its condition failed (asked for with ALL_OLD).
    pub fn old_item(reasons: &[CancellationReason], i: usize) -> Option<&Item> {
        reasons
            .get(i)
            .filter(|_| Self::condition_failed(reasons, i))
            .and_then(|r| r.item())
            .filter(|i| !i.is_empty())
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
    picker: Arc<shards::ShardPicker>,
    capacity: metrics::Capacity,
    /// Write capacity units per second a move job may use.
    move_rate: f64,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, retry_budget: Duration) -> Self {
        // Every call of a request with an Idempotency-Key passes its gate.
        let client = Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(idempotency::Gate)
                .build(),
        );
        Store {
            client,
            table: table.into(),
            retry_budget,
            picker: Arc::new(shards::ShardPicker::new()),
            capacity: metrics::Capacity::default(),
            move_rate: 400.0,
        }
    }

    /// The same store with move jobs limited to `units` of write capacity a second.
    pub fn with_move_rate(&self, units: f64) -> Store {
        Store {
            move_rate: units,
            ..self.clone()
        }
    }

    pub(crate) fn move_rate(&self) -> f64 {
        self.move_rate
    }

    /// The same store with a capacity tally of its own, counted in this one's too: a job
    /// throttles on its own writes, whatever else runs beside it.
    pub(crate) fn with_own_tally(&self) -> Store {
        Store {
            capacity: self.capacity.child(),
            ..self.clone()
        }
    }

    /// The same store with another retry budget (public routes get a short one).
    pub(crate) fn with_retry_budget(&self, retry_budget: Duration) -> Store {
        Store {
            retry_budget,
            ..self.clone()
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The write capacity this process's transactions consumed, as DynamoDB reported it.
    pub fn capacity(&self) -> &metrics::Capacity {
        &self.capacity
    }

    /// Runs `attempt` until it is done, with jittered backoff, within the retry budget.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, StoreError>
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
}

/// A random duration up to `cap` (at least 1 ms).
pub fn jitter(cap: Duration) -> Duration {
    let r = crate::random::u16() as u64;
    Duration::from_micros(cap.as_micros() as u64 * (r + 1) / (u16::MAX as u64 + 1))
        .max(Duration::from_millis(1))
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

    #[test]
    fn cancellation_reasons_are_read_by_position() {
        let ok = CancellationReason::builder().code("None").build();
        let held = CancellationReason::builder()
            .code("TransactionConflict")
            .build();
        let cond = CancellationReason::builder()
            .code("ConditionalCheckFailed")
            .item("fence", AttributeValue::S("j1".into()))
            .build();
        let r = vec![ok, held, cond];
        assert!(TxError::conflicted(&r, 1) && !TxError::conflicted(&r, 0));
        assert!(TxError::condition_failed(&r, 2));
        assert!(TxError::old_item(&r, 2).is_some_and(|i| i.contains_key("fence")));
        assert!(TxError::old_item(&r, 1).is_none());
        assert!(!TxError::condition_failed(&r, 9));
    }
}
