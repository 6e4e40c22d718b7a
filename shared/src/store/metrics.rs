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

/// Write capacity consumed by this process's transactions, in thousandths of a unit.
#[derive(Clone, Debug, Default)]
pub struct Capacity {
    milli: Arc<std::sync::atomic::AtomicU64>,
}

impl Capacity {
    pub fn add(&self, units: f64) {
        self.milli
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
    }

    /// Write capacity units consumed so far.
    pub fn units(&self) -> f64 {
        self.milli.load(Ordering::Relaxed) as f64 / 1000.0
    }
}
