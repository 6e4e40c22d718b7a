//! A request's idempotency scope, over the store calls of its task: its first transaction
//! held back for the answer (`Mode::Speculating`), or its writes sent under the lease
//! (`Mode::Plain`); and the SDK interceptor that sees every call it makes.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;

use super::Lease;
use crate::clock;
use crate::domain::NetworkId;
use crate::store::{n, s, Expr, Key, Store, StoreError, MAX_TX_ITEMS};

enum Mode {
    /// The first transaction waits for the answer; None until it comes.
    Speculating(Option<Vec<TransactWriteItem>>),
    /// Writes go out as they come, each transaction under the lease.
    Plain,
    /// A call came after a held-back transaction: the request must run again, in Plain.
    Aborted,
}

/// The request's lease and how its writes go, for the store calls of its task.
pub struct Scope {
    lease: Lease,
    mode: Mutex<Mode>,
}

/// What became of a scope's writes once its handler returned.
pub enum Finished {
    /// Nothing held back: any writes went out.
    Done,
    /// This transaction waits for the answer.
    Held(Vec<TransactWriteItem>),
    /// The handler must run again, in Plain.
    Aborted,
}

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

impl Scope {
    pub fn speculating(lease: Lease) -> Arc<Scope> {
        Arc::new(Scope {
            lease,
            mode: Mutex::new(Mode::Speculating(None)),
        })
    }

    pub fn plain(lease: Lease) -> Arc<Scope> {
        Arc::new(Scope {
            lease,
            mode: Mutex::new(Mode::Plain),
        })
    }

    /// Runs `fut` with this scope over its store calls.
    pub async fn run<F: std::future::Future>(self: &Arc<Self>, fut: F) -> F::Output {
        SCOPE.scope(self.clone(), fut).await
    }

    pub fn finish(&self) -> Finished {
        let Ok(mut mode) = self.mode.lock() else {
            return Finished::Aborted;
        };
        match std::mem::replace(&mut *mode, Mode::Plain) {
            Mode::Speculating(Some(items)) => Finished::Held(items),
            Mode::Aborted => Finished::Aborted,
            Mode::Speculating(None) | Mode::Plain => Finished::Done,
        }
    }

    fn abort(mode: &mut Mode) -> StoreError {
        *mode = Mode::Aborted;
        StoreError::Deferred
    }
}

fn current() -> Option<Arc<Scope>> {
    SCOPE.try_with(Arc::clone).ok()
}

/// Whether the running request's claim already checked this API key for `net`: its own
/// check needs no second read.
pub(crate) fn vouches(api_key: &Key, net: &NetworkId) -> bool {
    SCOPE
        .try_with(|s| &s.lease.api_key == api_key && &s.lease.net == net)
        .unwrap_or(false)
}

/// Whether the running request carries an `Idempotency-Key`.
pub(crate) fn in_scope() -> bool {
    SCOPE.try_with(|_| ()).is_ok()
}

/// A transaction about to be sent from a request's task.
pub(crate) enum OnTransact {
    /// Held back for the answer: nothing to send now.
    Held,
    /// Send these; `guarded` when the last one is the lease's guard.
    Send {
        items: Vec<TransactWriteItem>,
        guarded: bool,
    },
}

impl Store {
    /// Where the request's scope sends `items`: held back, sent with the lease as a guard,
    /// or sent as they are.
    pub(crate) fn on_transact(
        &self,
        mut items: Vec<TransactWriteItem>,
    ) -> Result<OnTransact, StoreError> {
        let Some(scope) = current() else {
            return Ok(OnTransact::Send {
                items,
                guarded: false,
            });
        };
        let mut mode = scope
            .mode
            .lock()
            .map_err(|_| StoreError::Other("idempotency scope poisoned".into()))?;
        let room = items.len() < MAX_TX_ITEMS;
        match &mut *mode {
            Mode::Speculating(None) if room => {
                *mode = Mode::Speculating(Some(items));
                return Ok(OnTransact::Held);
            }
            Mode::Speculating(Some(_)) | Mode::Aborted => return Err(Scope::abort(&mut mode)),
            Mode::Speculating(None) | Mode::Plain => *mode = Mode::Plain,
        }
        if !room {
            return Ok(OnTransact::Send {
                items,
                guarded: false,
            });
        }
        items.push(self.lease_guard(&scope.lease)?);
        Ok(OnTransact::Send {
            items,
            guarded: true,
        })
    }

    /// Marks the record as written by its holder; fails once the lease is another's.
    fn lease_guard(&self, lease: &Lease) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let update = format!("SET {} = {}", e.n("committed"), e.v(n(clock::now_ms())));
        let cond = format!("{} = {}", e.n("lease"), e.v(s(&lease.token)));
        self.tx_update(&lease.key, &update, Some(&cond), &e)
    }
}

/// Sees every DynamoDB call of a request's task: a call after a held-back transaction makes
/// the request run again (its view would miss its own write); a single-item write before one
/// means there is nothing to hold back, so writes go out as they come.
#[derive(Debug)]
pub struct Gate;

const SINGLE_WRITES: [&str; 4] = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"];

impl Intercept for Gate {
    fn name(&self) -> &'static str {
        "IdempotencyGate"
    }

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(scope) = current() else {
            return Ok(());
        };
        let op = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_default();
        let mut mode = scope
            .mode
            .lock()
            .map_err(|_| "idempotency scope poisoned")?;
        match &*mode {
            Mode::Speculating(Some(_)) | Mode::Aborted => {
                Scope::abort(&mut mode);
                Err("a call after a held-back write".into())
            }
            Mode::Speculating(None) if SINGLE_WRITES.contains(&op.as_str()) => {
                *mode = Mode::Plain;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::time::Duration;

    fn store() -> Store {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        Store::new(
            aws_sdk_dynamodb::Client::from_conf(conf),
            "t",
            Duration::from_secs(1),
        )
    }

    fn lease() -> Lease {
        Lease {
            key: ("IDEM#n#h".into(), "IDEM".into()),
            token: "tok".into(),
            api_key: ("KEY#h".into(), "KEY".into()),
            net: NetworkId::try_from("n").unwrap(),
        }
    }

    fn put(store: &Store, pk: &str) -> TransactWriteItem {
        let item = crate::store::table::key_item(&(pk.into(), "X".into()));
        store.tx_put(item, None, &Expr::new(), false).unwrap()
    }

    #[tokio::test]
    async fn the_first_transaction_waits_and_a_second_call_aborts() {
        let store = store();
        let scope = Scope::speculating(lease());
        scope
            .run(async {
                assert!(in_scope());
                assert!(matches!(
                    store.on_transact(vec![put(&store, "A")]).unwrap(),
                    OnTransact::Held
                ));
                assert!(matches!(
                    store.on_transact(vec![put(&store, "B")]),
                    Err(StoreError::Deferred)
                ));
            })
            .await;
        assert!(matches!(scope.finish(), Finished::Aborted));
        assert!(!in_scope());
    }

    #[tokio::test]
    async fn a_held_transaction_is_handed_over_with_its_items() {
        let store = store();
        let scope = Scope::speculating(lease());
        scope
            .run(async {
                store
                    .on_transact(vec![put(&store, "A"), put(&store, "B")])
                    .unwrap();
            })
            .await;
        match scope.finish() {
            Finished::Held(items) => assert_eq!(items.len(), 2),
            _ => panic!("held"),
        }
    }

    #[tokio::test]
    async fn plain_transactions_carry_the_lease_and_others_go_as_they_are() {
        let store = store();
        let scope = Scope::plain(lease());
        scope
            .run(async {
                match store.on_transact(vec![put(&store, "A")]).unwrap() {
                    OnTransact::Send { items, guarded } => {
                        assert!(guarded);
                        assert_eq!(items.len(), 2);
                        let guard = items[1].update().unwrap();
                        assert_eq!(guard.key()["PK"], AttributeValue::S("IDEM#n#h".into()));
                        assert!(guard.condition_expression().is_some());
                    }
                    OnTransact::Held => panic!("plain holds nothing"),
                }
                assert!(vouches(
                    &("KEY#h".into(), "KEY".into()),
                    &NetworkId::try_from("n").unwrap()
                ));
                assert!(!vouches(
                    &("KEY#h".into(), "KEY".into()),
                    &NetworkId::try_from("m").unwrap()
                ));
            })
            .await;
        // Outside a request's scope nothing changes.
        match store.on_transact(vec![put(&store, "A")]).unwrap() {
            OnTransact::Send { items, guarded } => assert!(!guarded && items.len() == 1),
            OnTransact::Held => panic!("no scope holds nothing"),
        }
        // A full transaction has no room for the guard: it goes as it is.
        let full: Vec<_> = (0..super::MAX_TX_ITEMS)
            .map(|i| put(&store, &format!("P{i}")))
            .collect();
        let sent = Scope::speculating(lease())
            .run(async { store.on_transact(full) })
            .await;
        assert!(matches!(sent, Ok(OnTransact::Send { guarded: false, .. })));
    }
}
