//! Networks and their API keys.

use super::{keys, s, Expr, Key, Store, StoreError, TxError};
use crate::clock;
use crate::domain::NetworkId;

impl Store {
    /// Creates the network if new and registers the key hash for it, in one transaction.
    /// Re-registering a key for the same network is a no-op; a key of another network is
    /// refused (false).
    pub async fn register_key(&self, net: &NetworkId, key_hash: &str) -> Result<bool, StoreError> {
        let now = clock::now();
        let stamp = |key: &Key, cond: bool| {
            let mut e = Expr::new();
            let (id, at) = (e.n("network_id"), e.n("created_at"));
            let (idv, atv) = (e.v(s(net.as_str())), e.v(s(&now.rfc3339)));
            let update = format!("SET {id} = {idv}, {at} = if_not_exists({at}, {atv})");
            let cond = cond.then(|| format!("attribute_not_exists({id}) OR {id} = {idv}"));
            self.tx_update(key, &update, cond.as_deref(), &e)
        };
        let tx = vec![
            stamp(&keys::network(net), false)?,
            stamp(&keys::api_key(key_hash), true)?,
        ];
        match self.transact(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(_)) => Ok(false),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}
