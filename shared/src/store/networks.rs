//! Networks and their API keys.

use super::{keys, s, Expr, Item, Store, StoreError, TxError};
use crate::clock;
use crate::domain::NetworkId;

impl Store {
    /// Creates the network if new and registers the key hash for it. Re-registering a key
    /// for the same network is a no-op; a key of another network is refused.
    pub async fn register_key(&self, net: &NetworkId, key_hash: &str) -> Result<bool, StoreError> {
        let now = clock::now();
        let mut e = Expr::new();
        let net_item: Item = items_with(
            &keys::network(net),
            [("network_id", net.as_str()), ("created_at", &now.rfc3339)],
        );
        let cond_net = format!("attribute_not_exists({})", e.n(keys::PK));
        let key_item = items_with(
            &keys::api_key(key_hash),
            [("network_id", net.as_str()), ("created_at", &now.rfc3339)],
        );
        let mut e2 = Expr::new();
        let cond_key = format!(
            "attribute_not_exists({}) OR {} = {}",
            e2.n(keys::PK),
            e2.n("network_id"),
            e2.v(s(net.as_str()))
        );
        let net_put = match self.get(&keys::network(net)).await? {
            Some(_) => None,
            None => Some(self.tx_put(net_item, Some(&cond_net), &e, false)?),
        };
        let mut tx: Vec<_> = net_put.into_iter().collect();
        tx.push(self.tx_put(key_item, Some(&cond_key), &e2, false)?);
        match self.transact(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(_)) => Ok(false),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}

fn items_with<const N: usize>(key: &super::Key, attrs: [(&str, &str); N]) -> Item {
    let item: Item = attrs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), s(*v)))
        .collect();
    super::items::with_key(item, key)
}
