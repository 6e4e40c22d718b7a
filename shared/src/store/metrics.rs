//! Counts DynamoDB calls: one per operation, whatever the SDK retries underneath.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    calls: Arc<AtomicUsize>,
    names: Arc<Mutex<Vec<String>>>,
}

impl CallCounter {
    pub fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Operation names since the last reset, in order.
    pub fn names(&self) -> Vec<String> {
        self.names.lock().map(|n| n.clone()).unwrap_or_default()
    }

    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        if let Ok(mut n) = self.names.lock() {
            n.clear();
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let (Some(m), Ok(mut names)) = (cfg.load::<Metadata>(), self.names.lock()) {
            names.push(m.name().to_owned());
        }
        Ok(())
    }
}
