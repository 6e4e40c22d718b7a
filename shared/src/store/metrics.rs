//! Counts DynamoDB calls: one per operation, whatever the SDK retries underneath.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    calls: Arc<AtomicUsize>,
    items: Arc<AtomicUsize>,
}

impl CallCounter {
    pub fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Items that reads returned (GetItem, BatchGetItem, Query, Scan).
    pub fn items_read(&self) -> usize {
        self.items.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        self.items.store(0, Ordering::SeqCst);
    }
}

/// The items a read's answer holds.
fn items_in(out: &aws_smithy_runtime_api::client::interceptors::context::Output) -> usize {
    use aws_sdk_dynamodb::operation::{
        batch_get_item::BatchGetItemOutput, get_item::GetItemOutput, query::QueryOutput,
        scan::ScanOutput,
    };
    if let Some(o) = out.downcast_ref::<QueryOutput>() {
        o.items().len()
    } else if let Some(o) = out.downcast_ref::<BatchGetItemOutput>() {
        o.responses().map_or(0, |r| r.values().map(Vec::len).sum())
    } else if let Some(o) = out.downcast_ref::<GetItemOutput>() {
        usize::from(o.item().is_some())
    } else if let Some(o) = out.downcast_ref::<ScanOutput>() {
        o.items().len()
    } else {
        0
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

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(out) = ctx.output_or_error() {
            self.items.fetch_add(items_in(out), Ordering::SeqCst);
        }
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
    /// The tally this one is part of: what a job spends counts for the process too.
    parent: Option<Box<Capacity>>,
}

impl Capacity {
    pub fn add(&self, units: f64, items: usize) {
        self.milli
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
        if let Some(p) = &self.parent {
            p.add(units, items);
        }
    }

    /// A tally of its own whose spending also counts here: one job's, among others running.
    pub fn child(&self) -> Capacity {
        Capacity {
            parent: Some(Box::new(self.clone())),
            ..Capacity::default()
        }
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

    #[test]
    fn a_child_tally_counts_for_its_parent_alone() {
        let process = Capacity::default();
        let (a, b) = (process.child(), process.child());
        let (ma, mp) = (a.mark(), process.mark());
        a.add(20.0, 10);
        b.add(40.0, 10);
        assert_eq!(
            a.spent_since(ma),
            20.0,
            "a job's throttle sees its own writes"
        );
        assert_eq!(process.spent_since(mp), 60.0);
    }
}
