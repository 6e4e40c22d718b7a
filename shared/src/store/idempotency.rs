//! Idempotency records, one per network and key: `IDEM#<net>#<sha256 of the key>`.
//!
//! A request with a key first claims the record (with its API key checked in the same
//! transaction) and holds a lease while it runs. Its answer is written in the same transaction
//! as its own write where it has one: the request's first transaction is held back
//! (`Mode::Speculating`) until the answer is known, then sent with the answer. A request that
//! writes otherwise runs in `Mode::Plain`: each of its transactions carries the lease as a
//! condition, so a request whose lease was taken over cannot write, and the answer follows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;

use super::api_keys::KeyProbe;
use super::{keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use crate::clock;
use crate::domain::NetworkId;

/// How long an answer is kept, and its record with it.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// A stored answer: what the first complete request answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A claim's outcome.
#[derive(Debug)]
pub enum Claim {
    /// This request runs, under `Lease`.
    Claimed(Lease),
    /// The first request answered this.
    Replay(Answer),
    /// The key was used for another method, path or body.
    Reused,
    /// The first request is still running.
    InUse,
    /// The API key does not grant the network: the request runs without the record, and
    /// its own check answers 401 or 403.
    Unauthenticated,
}

/// The record a request holds, and the token that says it holds it; the claim checked
/// `api_key` against `net` as it took it.
#[derive(Clone, Debug)]
pub struct Lease {
    key: Key,
    token: String,
    api_key: Key,
    net: NetworkId,
}

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
        let room = items.len() < super::MAX_TX_ITEMS;
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

    /// One TransactWriteItems: the API key's check and the record's claim. A replay ends here.
    pub async fn claim(
        &self,
        probe: &KeyProbe,
        net: &NetworkId,
        idem_key_hash: &str,
        fingerprint: &str,
        lease_for: Duration,
    ) -> Result<Claim, StoreError> {
        let key = keys::idempotency(net, idem_key_hash);
        self.retrying(|_| async {
            let token = crate::random::base58::<16>()
                .map_err(|e| StoreError::Other(Box::new(e)))?;
            let now = clock::now_ms();
            let mut ke = Expr::new();
            let key_cond = format!("{} = {}", ke.n("network_id"), ke.v(s(net.as_str())));
            let check = self.tx_check(&probe.key, &key_cond, &ke)?;
            let mut item: Item = super::table::key_item(&key);
            item.insert("fp".into(), s(fingerprint));
            item.insert("lease".into(), s(&token));
            item.insert(
                "lease_until".into(),
                n(now + lease_for.as_millis() as u64),
            );
            item.insert(
                keys::EXPIRES_AT.into(),
                n(now / 1000 + KEEP.as_secs()),
            );
            let mut e = Expr::new();
            let cond = format!(
                "attribute_not_exists({pk}) OR {exp} < {now_s} OR (attribute_not_exists({st}) AND {until} < {now_ms})",
                pk = e.n(keys::PK),
                exp = e.n(keys::EXPIRES_AT),
                now_s = e.v(n(now / 1000)),
                st = e.n("a_status"),
                until = e.n("lease_until"),
                now_ms = e.v(n(now)),
            );
            let put = self.tx_put(item, Some(&cond), &e, true)?;
            match self.transact(vec![check, put]).await {
                Ok(()) => Ok(Attempt::Done(Claim::Claimed(Lease {
                    key: key.clone(),
                    token,
                    api_key: probe.key.clone(),
                    net: net.clone(),
                }))),
                Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                    Ok(Attempt::Done(Claim::Unauthenticated))
                }
                Err(TxError::Cancelled(r)) => match TxError::old_item(&r, 1) {
                    Some(old) => Ok(Attempt::Done(held_by_another(old, fingerprint))),
                    None => Ok(Attempt::Retry),
                },
                Err(TxError::Store(e)) => Err(e),
            }
        })
        .await
    }

    /// Sends the held-back transaction with the answer. False when it did not commit: a
    /// condition of the request's own failed, or it met another transaction.
    pub async fn commit_held(
        &self,
        lease: &Lease,
        mut items: Vec<TransactWriteItem>,
        answer: &Answer,
    ) -> Result<bool, StoreError> {
        let at = items.len();
        items.push(self.answer_update(lease, answer)?);
        match self.send_transaction(items, None).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, at) => {
                Err(StoreError::LeaseLost)
            }
            Err(TxError::Cancelled(_)) => Ok(false),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Keeps the answer of a request that held the lease; false when the lease was lost.
    pub async fn record_answer(&self, lease: &Lease, answer: &Answer) -> Result<bool, StoreError> {
        let items = vec![self.answer_update(lease, answer)?];
        match self.send_transaction(items, None).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => Ok(false),
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Ends the lease with no answer kept: a retry runs the request.
    pub async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let update = format!("SET {} = {}", e.n("lease_until"), e.v(n(0)));
        let cond = format!("{} = {}", e.n("lease"), e.v(s(&lease.token)));
        self.update_if(&lease.key, &update, Some(&cond), &e)
            .await
            .map(|_| ())
    }

    fn answer_update(&self, lease: &Lease, a: &Answer) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let mut sets = vec![
            format!("{} = {}", e.n("a_status"), e.v(n(a.status))),
            format!("{} = {}", e.n("a_body"), e.v(s(&a.body))),
        ];
        // No empty map: DynamoDB Local's stream sends one as `{}`, which no SDK reads.
        if !a.headers.is_empty() {
            let headers: Item = a.headers.iter().map(|(k, v)| (k.clone(), s(v))).collect();
            sets.push(format!(
                "{} = {}",
                e.n("a_headers"),
                e.v(AttributeValue::M(headers))
            ));
        }
        let update = format!("SET {} REMOVE {}", sets.join(", "), e.n("lease_until"));
        let cond = format!("{} = {}", e.n("lease"), e.v(s(&lease.token)));
        self.tx_update(&lease.key, &update, Some(&cond), &e)
    }
}

/// What a record held by another request says to this one.
fn held_by_another(old: &Item, fingerprint: &str) -> Claim {
    let text = |k: &str| match old.get(k) {
        Some(AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    };
    if text("fp") != Some(fingerprint) {
        return Claim::Reused;
    }
    match stored_answer(old) {
        Some(a) => Claim::Replay(a),
        None => Claim::InUse,
    }
}

fn stored_answer(item: &Item) -> Option<Answer> {
    let status = match item.get("a_status")? {
        AttributeValue::N(v) => v.parse().ok()?,
        _ => return None,
    };
    let body = match item.get("a_body") {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    };
    let headers = match item.get("a_headers") {
        Some(AttributeValue::M(m)) => m
            .iter()
            .filter_map(|(k, v)| match v {
                AttributeValue::S(v) => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(Answer {
        status,
        headers,
        body,
    })
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
    use std::collections::HashMap;

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
        let item = super::super::table::key_item(&(pk.into(), "X".into()));
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
        let full: Vec<_> = (0..super::super::MAX_TX_ITEMS)
            .map(|i| put(&store, &format!("P{i}")))
            .collect();
        let sent = Scope::speculating(lease())
            .run(async { store.on_transact(full) })
            .await;
        assert!(matches!(sent, Ok(OnTransact::Send { guarded: false, .. })));
    }

    #[test]
    fn another_fingerprint_is_reuse_and_an_answer_is_replayed() {
        let mut old: Item = HashMap::from([("fp".to_owned(), s("a"))]);
        assert!(matches!(held_by_another(&old, "b"), Claim::Reused));
        assert!(matches!(held_by_another(&old, "a"), Claim::InUse));
        old.insert("a_status".into(), n(201));
        old.insert("a_body".into(), s("{}"));
        match held_by_another(&old, "a") {
            Claim::Replay(a) => assert_eq!((a.status, a.body.as_str()), (201, "{}")),
            other => panic!("{other:?}"),
        }
    }
}
