//! The sender's steps. A due message is claimed by moving its due time past a lease (a
//! conditional write on the due time it was seen with), so two senders never both attempt
//! it, and one that dies mid-attempt leaves it due again when the lease ends.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::messages::MessageItem;
use super::{SecretItem, WebhookItem};
use crate::domain::NetworkId;
use crate::store::table::{n, s, SortKey};
use crate::store::{items, keys, Expr, Store, StoreError};

/// How an attempt ended, as the message records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    Delivered,
    /// Due again at this time.
    Retry(u64),
    Failed,
}

impl Store {
    /// Up to `limit` messages of one due partition due by `now_ms`, oldest first.
    pub async fn due_messages(
        &self,
        shard: usize,
        now_ms: u64,
        limit: i32,
    ) -> Result<Vec<MessageItem>, StoreError> {
        let (found, _) = self
            .query_index_page(
                &keys::due_partition(shard),
                &SortKey::Below(keys::due_before(now_ms)),
                None,
                Some(limit),
            )
            .await?;
        found.into_iter().map(items::from_item).collect()
    }

    /// Claims a due message until `lease_ms`; None if another sender, or a retry, moved it.
    pub async fn claim_message(
        &self,
        m: &MessageItem,
        lease_ms: u64,
    ) -> Result<Option<MessageItem>, StoreError> {
        let Some(seen) = &m.due_sk else {
            return Ok(None);
        };
        let net = m.net()?;
        let (_, sk) = keys::due(&net, &m.webhook_id, &m.message_id, lease_ms);
        let mut e = Expr::new();
        let gsk = e.n(keys::GSI1SK);
        let update = format!("SET {gsk} = {}", e.v(s(sk)));
        let cond = format!("{gsk} = {}", e.v(s(seen)));
        let got = self.update_if(&m.key()?, &update, Some(&cond), &e).await?;
        got.map(items::from_item).transpose()
    }

    /// Webhooks and their secrets, by (network, webhook), in one BatchGetItem per 50.
    pub async fn webhooks_for_sending(
        &self,
        hooks: &[(NetworkId, String)],
    ) -> Result<HashMap<(String, String), (Option<WebhookItem>, Option<SecretItem>)>, StoreError>
    {
        let wanted: Vec<_> = hooks
            .iter()
            .flat_map(|(net, id)| [keys::webhook(net, id), keys::webhook_secret(net, id)])
            .collect();
        let mut got = self.batch_get(&wanted).await?;
        let mut out = HashMap::new();
        for (net, id) in hooks {
            let (hk, sk) = (keys::webhook(net, id), keys::webhook_secret(net, id));
            out.insert(
                (net.as_str().to_owned(), id.clone()),
                (
                    got.remove(&hk).map(items::from_item).transpose()?,
                    got.remove(&sk).map(items::from_item).transpose()?,
                ),
            );
        }
        Ok(out)
    }

    /// Records an attempt on a message this sender claimed; nothing if it was made due again
    /// meanwhile (a retry or replay: that attempt comes next).
    pub async fn record_attempt(
        &self,
        claimed: &MessageItem,
        status_code: Option<u16>,
        counted: bool,
        outcome: Recorded,
    ) -> Result<(), StoreError> {
        let Some(held) = &claimed.due_sk else {
            return Ok(());
        };
        let net = claimed.net()?;
        let mut e = Expr::new();
        let gsk = e.n(keys::GSI1SK);
        let mut set = vec![];
        let mut remove = vec![];
        if counted {
            let at = e.n("attempts");
            set.push(format!("{at} = {at} + {}", e.v(n(1))));
        }
        match status_code {
            Some(c) => set.push(format!("{} = {}", e.n("last_status_code"), e.v(n(c)))),
            None if counted => remove.push(e.n("last_status_code")),
            None => {}
        }
        match outcome {
            Recorded::Delivered | Recorded::Failed => {
                let done = if outcome == Recorded::Delivered {
                    "delivered"
                } else {
                    "failed"
                };
                set.push(format!("{} = {}", e.n("status"), e.v(s(done))));
                remove.extend([e.n("next_attempt_ms"), e.n(keys::GSI1PK), gsk.clone()]);
            }
            Recorded::Retry(at_ms) => {
                let (_, sk) = keys::due(&net, &claimed.webhook_id, &claimed.message_id, at_ms);
                set.push(format!("{} = {}", e.n("next_attempt_ms"), e.v(n(at_ms))));
                set.push(format!("{gsk} = {}", e.v(s(sk))));
            }
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let cond = format!("{gsk} = {}", e.v(s(held)));
        self.update_if(&claimed.key()?, &update, Some(&cond), &e)
            .await
            .map(|_| ())
    }

    /// Marks the webhook failing since `now_ms`, unless it already is.
    pub async fn mark_failing(
        &self,
        net: &NetworkId,
        id: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let f = e.n("failing_since_ms");
        let update = format!("SET {f} = {}", e.v(n(now_ms)));
        let cond = format!(
            "attribute_exists({}) AND attribute_not_exists({f})",
            e.n(keys::PK)
        );
        self.update_if(&keys::webhook(net, id), &update, Some(&cond), &e)
            .await
            .map(|_| ())
    }

    /// A delivery: the webhook is no longer failing.
    pub async fn clear_failing(&self, net: &NetworkId, id: &str) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let f = e.n("failing_since_ms");
        let cond = format!("attribute_exists({f})");
        self.update_if(
            &keys::webhook(net, id),
            &format!("REMOVE {f}"),
            Some(&cond),
            &e,
        )
        .await
        .map(|_| ())
    }

    /// Disables an active webhook, saying why.
    pub async fn disable_webhook(
        &self,
        net: &NetworkId,
        id: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let a = e.n("active");
        let update = format!(
            "SET {a} = {off}, {r} = {rv}",
            off = e.v(AttributeValue::Bool(false)),
            r = e.n("disabled_reason"),
            rv = e.v(s(reason)),
        );
        let cond = format!("{a} = {}", e.v(AttributeValue::Bool(true)));
        self.update_if(&keys::webhook(net, id), &update, Some(&cond), &e)
            .await
            .map(|_| ())
    }
}
