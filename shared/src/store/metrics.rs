//! Counts DynamoDB calls: one per operation, whatever the SDK retries underneath.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    calls: Arc<AtomicUsize>,
}

impl CallCounter {
    pub fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Write capacity consumed by this process's transactions, in thousandths of a unit, and the
/// transactions and items that consumed it.
#[derive(Clone, Debug, Default)]
pub struct Capacity {
    milli: Arc<std::sync::atomic::AtomicU64>,
    transactions: Arc<std::sync::atomic::AtomicU64>,
    items: Arc<std::sync::atomic::AtomicU64>,
}

impl Capacity {
    pub fn add(&self, units: f64, items: usize) {
        self.milli
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
    }

    /// Write capacity units consumed so far.
    pub fn units(&self) -> f64 {
        self.milli.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// A point to measure what was spent from.
    pub fn mark(&self) -> (f64, u64) {
        (self.units(), self.transactions().1)
    }

    /// Write units spent since `mark`: as DynamoDB reports them, and never less than the 2 a
    /// transaction's item costs (DynamoDB Local reports 2 per transaction, whatever its size).
    pub fn spent_since(&self, mark: (f64, u64)) -> f64 {
        let (units, items) = self.mark();
        (units - mark.0).max(2.0 * items.saturating_sub(mark.1) as f64)
    }

    /// Transactions committed so far, and the items they held.
    pub fn transactions(&self) -> (u64, u64) {
        (
            self.transactions.load(Ordering::Relaxed),
            self.items.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_units_are_never_below_two_per_item() {
        let c = Capacity::default();
        let m = c.mark();
        // DynamoDB Local: 2 units reported for a transaction of 10 items
        c.add(2.0, 10);
        assert_eq!(c.spent_since(m), 20.0);
        // DynamoDB: larger items cost more than 2 each, and the report says so
        let m = c.mark();
        c.add(26.0, 10);
        assert_eq!(c.spent_since(m), 26.0);
    }
}
