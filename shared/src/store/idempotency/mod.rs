//! Idempotency records, one per network and key: `IDEM#<net>#<sha256 of the key>`.
//!
//! A request with a key first claims the record (with its API key checked in the same
//! transaction) and holds a lease while it runs. Its answer is written in the same transaction
//! as its own write where it has one: the request's first transaction is held back
//! (`Mode::Speculating`) until the answer is known, then sent with the answer. A request that
//! writes otherwise runs in `Mode::Plain`: each of its transactions carries the lease as a
//! condition, so a request whose lease was taken over cannot write, and the answer follows.

mod scope;

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::api_keys::KeyProbe;
use super::{keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError};
use crate::clock;
use crate::domain::NetworkId;

pub(crate) use scope::{in_scope, vouches, OnTransact};
pub use scope::{Finished, Gate, Scope};

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

impl Store {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
