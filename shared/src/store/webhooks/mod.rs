//! Webhooks: each is an item of its network's partition, its secret an item of its own
//! (`WHSEC#`, which only the functions that create or sign may touch), and a count that caps
//! them at 20. Messages are in `messages`, the sender's steps in `sending`.

pub mod messages;
pub mod sending;

use serde::{Deserialize, Serialize};

use super::api_keys::{AuthFailure, KeyProbe};
use super::table::{n, s, SortKey};
use super::{items, keys, Expr, Store, StoreError, TxError};
use crate::domain::webhook::MAX_WEBHOOKS;
use crate::domain::NetworkId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookItem {
    pub network_id: String,
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: String,
    /// Since when it takes its current events, active (ms): `refnet-admin check` holds
    /// changes from then on to invariant 8.
    #[serde(default)]
    pub since_ms: u64,
    /// Since when every attempt has failed (ms); cleared by a delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since_ms: Option<u64>,
    /// Why the sender disabled it: `gone` (a 410) or `failing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretItem {
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_until_ms: Option<u64>,
}

impl SecretItem {
    /// The secrets that sign at `now_ms`: the current, and the previous for a day.
    pub fn signing(&self, now_ms: u64) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(p), Some(until)) = (&self.previous, self.previous_until_ms) {
            if now_ms < until {
                out.push(p);
            }
        }
        out
    }
}

/// A change to a webhook; None leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    /// Some(None) clears it.
    pub description: Option<Option<String>>,
}

pub enum Created {
    Auth(AuthFailure),
    /// The network has its 20 webhooks.
    Limit,
    Done,
}

impl Store {
    /// The key's GetItem, then one transaction: the count, the webhook and its secret.
    pub async fn create_webhook(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        hook: &WebhookItem,
        secret: &str,
    ) -> Result<Created, StoreError> {
        if let Err(f) = self.authenticate(probe, net).await? {
            return Ok(Created::Auth(f));
        }
        self.insert_webhook(net, hook, secret).await
    }

    /// One transaction: the count, the webhook and its secret. A webhook that exists is
    /// left as it is (`Created::Done`).
    pub async fn insert_webhook(
        &self,
        net: &NetworkId,
        hook: &WebhookItem,
        secret: &str,
    ) -> Result<Created, StoreError> {
        let mut e = Expr::new();
        let (c, zero, one, max) = (e.n("n"), e.v(n(0)), e.v(n(1)), e.v(n(MAX_WEBHOOKS)));
        let count = self.tx_update(
            &keys::webhook_count(net),
            &format!("SET {c} = if_not_exists({c}, {zero}) + {one}"),
            Some(&format!("attribute_not_exists({c}) OR {c} < {max}")),
            &e,
        )?;
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let item = items::with_key(items::to_item(hook)?, &keys::webhook(net, &hook.webhook_id));
        let sec = items::with_key(
            items::to_item(&SecretItem {
                secret: secret.to_owned(),
                previous: None,
                previous_until_ms: None,
            })?,
            &keys::webhook_secret(net, &hook.webhook_id),
        );
        let tx = vec![
            count,
            self.tx_put(item, Some(&absent), &e, false)?,
            self.tx_put(sec, Some(&absent), &e, false)?,
        ];
        match self.transact(tx).await {
            Ok(()) => Ok(Created::Done),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => Ok(Created::Limit),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 1) => Ok(Created::Done),
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Every webhook of the network: the key and the partition side by side.
    pub async fn list_webhooks(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
    ) -> Result<Result<Vec<WebhookItem>, AuthFailure>, StoreError> {
        let (auth, hooks) =
            futures::future::try_join(self.authenticate(probe, net), self.network_webhooks(net))
                .await?;
        Ok(auth.map(|()| hooks))
    }

    /// Every webhook of the network, for the fanout (one Query: there are at most 20).
    pub async fn network_webhooks(&self, net: &NetworkId) -> Result<Vec<WebhookItem>, StoreError> {
        let page = self
            .query_page(
                &keys::programs_partition(net),
                &SortKey::Prefix(keys::WEBHOOK_PREFIX.into()),
                None,
                None,
            )
            .await?;
        page.items.into_iter().map(items::from_item).collect()
    }

    /// The key and the webhook in one BatchGetItem.
    pub async fn get_webhook(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        id: &str,
    ) -> Result<Result<Option<WebhookItem>, AuthFailure>, StoreError> {
        let k = keys::webhook(net, id);
        let mut got = self.batch_get(&[probe.key.clone(), k.clone()]).await?;
        if let Err(f) = super::api_keys::check_key(got.get(&probe.key), net) {
            return Ok(Err(f));
        }
        Ok(Ok(got.remove(&k).map(items::from_item).transpose()?))
    }

    /// The key's GetItem, then one conditional UpdateItem. Setting `active` clears what
    /// disabled it.
    pub async fn update_webhook(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        id: &str,
        patch: &WebhookPatch,
    ) -> Result<Result<Option<WebhookItem>, AuthFailure>, StoreError> {
        if let Err(f) = self.authenticate(probe, net).await? {
            return Ok(Err(f));
        }
        let mut e = Expr::new();
        let mut set = Vec::new();
        let mut remove = Vec::new();
        if let Some(u) = &patch.url {
            set.push(format!("{} = {}", e.n("url"), e.v(s(u))));
        }
        if let Some(ev) = &patch.events {
            let list = ev.iter().map(|x| s(x.as_str())).collect();
            set.push(format!(
                "{} = {}",
                e.n("events"),
                e.v(aws_sdk_dynamodb::types::AttributeValue::L(list))
            ));
        }
        if patch.events.is_some() || patch.active == Some(true) {
            set.push(format!(
                "{} = {}",
                e.n("since_ms"),
                e.v(n(crate::clock::now_ms()))
            ));
        }
        if let Some(a) = patch.active {
            set.push(format!(
                "{} = {}",
                e.n("active"),
                e.v(aws_sdk_dynamodb::types::AttributeValue::Bool(a))
            ));
            if a {
                remove.push(e.n("failing_since_ms"));
                remove.push(e.n("disabled_reason"));
            }
        }
        match &patch.description {
            Some(Some(d)) => set.push(format!("{} = {}", e.n("description"), e.v(s(d)))),
            Some(None) => remove.push(e.n("description")),
            None => {}
        }
        let mut update = String::new();
        if !set.is_empty() {
            update = format!("SET {}", set.join(", "));
        }
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let cond = format!("attribute_exists({})", e.n(keys::PK));
        if update.is_empty() {
            // Nothing to change: the webhook as it is.
            let got = self.get(&keys::webhook(net, id)).await?;
            return Ok(Ok(got.map(items::from_item).transpose()?));
        }
        let got = self
            .update_if(&keys::webhook(net, id), &update, Some(&cond), &e)
            .await?;
        Ok(Ok(got.map(items::from_item).transpose()?))
    }

    /// The key's GetItem, then one transaction: the webhook, its secret and the count. Its
    /// messages stay for their TTL; the sender fails those still due.
    pub async fn delete_webhook(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        id: &str,
    ) -> Result<Result<bool, AuthFailure>, StoreError> {
        if let Err(f) = self.authenticate(probe, net).await? {
            return Ok(Err(f));
        }
        let mut e = Expr::new();
        let exists = format!("attribute_exists({})", e.n(keys::PK));
        let mut c = Expr::new();
        let (cn, one) = (c.n("n"), c.v(n(1)));
        let tx = vec![
            self.tx_delete(&keys::webhook(net, id), Some(&exists), &e)?,
            self.tx_delete(&keys::webhook_secret(net, id), None, &Expr::new())?,
            self.tx_update(
                &keys::webhook_count(net),
                &format!("SET {cn} = {cn} - {one}"),
                Some(&format!("{cn} >= {one}")),
                &c,
            )?,
        ];
        match self.transact(tx).await {
            Ok(()) => Ok(Ok(true)),
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => Ok(Ok(false)),
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// The key and the webhook in one BatchGetItem, then one UpdateItem of the secret: the
    /// current one becomes the previous, which signs for `keep_ms` more.
    pub async fn rotate_webhook_secret(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        id: &str,
        secret: &str,
        until_ms: u64,
    ) -> Result<Result<Option<WebhookItem>, AuthFailure>, StoreError> {
        let hook = match self.get_webhook(net, probe, id).await? {
            Ok(Some(h)) => h,
            other => return Ok(other),
        };
        let mut e = Expr::new();
        let (cur, prev, until) = (e.n("secret"), e.n("previous"), e.n("previous_until_ms"));
        let update = format!(
            "SET {prev} = {cur}, {until} = {u}, {cur} = {new}",
            u = e.v(n(until_ms)),
            new = e.v(s(secret)),
        );
        let cond = format!("attribute_exists({cur})");
        let done = self
            .update_applies(&keys::webhook_secret(net, id), &update, &cond, &e)
            .await?;
        Ok(Ok(done.then_some(hook)))
    }
}
