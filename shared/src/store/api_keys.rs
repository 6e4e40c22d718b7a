//! Networks and their API keys: keys are stored as SHA-256 hashes only.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{keys, s, Expr, Item, Key, Store, StoreError, TxError};
use crate::clock;
use crate::domain::NetworkId;

/// Who is asking, checked against the key item read in the same round trip as the request's
/// own reads.
#[derive(Clone, Debug)]
pub struct KeyProbe {
    pub key: Key,
}

impl KeyProbe {
    pub fn of_hash(hash_hex: &str) -> KeyProbe {
        KeyProbe {
            key: keys::api_key(hash_hex),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    UnknownKey,
    OtherNetwork,
}

/// The network an API key item belongs to, if the item is one.
fn key_network(item: Option<&Item>) -> Option<&str> {
    match item?.get("network_id")? {
        AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

/// Whether a key item read for a probe grants access to `net`.
pub fn check_key(item: Option<&Item>, net: &NetworkId) -> Result<(), AuthFailure> {
    match key_network(item) {
        None => Err(AuthFailure::UnknownKey),
        Some(n) if n == net.as_str() => Ok(()),
        Some(_) => Err(AuthFailure::OtherNetwork),
    }
}

/// How a key change ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    Done,
    /// The key is unknown, or belongs to another network.
    NotFound,
    /// The new key is already registered to another network.
    Taken,
}

impl Store {
    /// One GetItem: the network of an API key; none when the request's idempotency claim
    /// checked it already.
    pub(crate) async fn authenticate(
        &self,
        probe: &KeyProbe,
        net: &NetworkId,
    ) -> Result<Result<(), AuthFailure>, StoreError> {
        if super::idempotency::vouches(&probe.key, net) {
            return Ok(Ok(()));
        }
        let item = self.get(&probe.key).await?;
        Ok(check_key(item.as_ref(), net))
    }

    /// Items that create the network if new and register a key hash for it; re-registering
    /// a key for the same network is a no-op, a key of another network is refused.
    fn registration(
        &self,
        net: &NetworkId,
        key_hash: &str,
    ) -> Result<Vec<aws_sdk_dynamodb::types::TransactWriteItem>, StoreError> {
        let now = clock::now();
        let stamp = |key: &Key, cond: bool| {
            let mut e = Expr::new();
            let (id, at) = (e.n("network_id"), e.n("created_at"));
            let (idv, atv) = (e.v(s(net.as_str())), e.v(s(&now.rfc3339)));
            let update = format!("SET {id} = {idv}, {at} = if_not_exists({at}, {atv})");
            let cond = cond.then(|| format!("attribute_not_exists({id}) OR {id} = {idv}"));
            self.tx_update(key, &update, cond.as_deref(), &e)
        };
        Ok(vec![
            stamp(&keys::network(net), false)?,
            stamp(&keys::api_key(key_hash), true)?,
        ])
    }

    /// Creates the network if new and registers the key hash for it, in one transaction.
    /// False when the key belongs to another network.
    pub async fn register_key(&self, net: &NetworkId, key_hash: &str) -> Result<bool, StoreError> {
        match self.transact(self.registration(net, key_hash)?).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(_)) => Ok(false),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    fn removal(
        &self,
        net: &NetworkId,
        key_hash: &str,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let cond = format!("{} = {}", e.n("network_id"), e.v(s(net.as_str())));
        self.tx_delete(&keys::api_key(key_hash), Some(&cond), &e)
    }

    /// Deletes a key of `net`: requests carrying it get 401 from then on.
    pub async fn revoke_key(
        &self,
        net: &NetworkId,
        key_hash: &str,
    ) -> Result<KeyChange, StoreError> {
        match self.transact(vec![self.removal(net, key_hash)?]).await {
            Ok(()) => Ok(KeyChange::Done),
            Err(TxError::Cancelled(_)) => Ok(KeyChange::NotFound),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Registers `new_hash` and deletes `old_hash`, in one transaction: there is no moment
    /// with both keys gone or a half-done rotation.
    pub async fn rotate_key(
        &self,
        net: &NetworkId,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<KeyChange, StoreError> {
        let mut tx = self.registration(net, new_hash)?;
        tx.push(self.removal(net, old_hash)?);
        match self.transact(tx).await {
            Ok(()) => Ok(KeyChange::Done),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 1) => Ok(KeyChange::Taken),
            Err(TxError::Cancelled(_)) => Ok(KeyChange::NotFound),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}
