//! A webhook's messages: one item each, keyed by the message id (so a redelivered change
//! writes nothing twice), in the due index while an attempt is due.

use serde::{Deserialize, Serialize};

use super::super::table::{n, s, SortKey};
use super::super::{items, keys, Expr, Item, Store, StoreError};
use crate::domain::webhook::message_id_floor;
use crate::domain::NetworkId;

/// Messages are kept this long (DynamoDB TTL), past the replay window and the last retry.
pub const KEEP_SECS: u64 = 30 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageItem {
    pub network_id: String,
    pub webhook_id: String,
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<u64>,
    pub created_at: String,
    #[serde(default, rename = "GSI1PK", skip_serializing_if = "Option::is_none")]
    pub due_pk: Option<String>,
    #[serde(default, rename = "GSI1SK", skip_serializing_if = "Option::is_none")]
    pub due_sk: Option<String>,
    #[serde(default)]
    pub expires_at: u64,
}

impl MessageItem {
    /// A new message, due at once.
    pub fn new(
        net: &NetworkId,
        webhook: &str,
        message_id: &str,
        kind: &str,
        body: String,
        created_at: &str,
        now_ms: u64,
    ) -> MessageItem {
        let (pk, sk) = keys::due(net, webhook, message_id, now_ms);
        MessageItem {
            network_id: net.as_str().to_owned(),
            webhook_id: webhook.to_owned(),
            message_id: message_id.to_owned(),
            kind: kind.to_owned(),
            body,
            status: "pending".into(),
            attempts: 0,
            last_status_code: None,
            next_attempt_ms: Some(now_ms),
            created_at: created_at.to_owned(),
            due_pk: Some(pk),
            due_sk: Some(sk),
            expires_at: now_ms / 1000 + KEEP_SECS,
        }
    }

    pub fn net(&self) -> Result<NetworkId, StoreError> {
        NetworkId::try_from(self.network_id.as_str()).map_err(|_| items::corrupt("message"))
    }

    pub fn key(&self) -> Result<keys::Key, StoreError> {
        Ok(keys::message(
            &self.net()?,
            &self.webhook_id,
            &self.message_id,
        ))
    }
}

impl Store {
    /// Writes the message unless it exists: false when it did.
    pub async fn put_message(&self, m: &MessageItem) -> Result<bool, StoreError> {
        let mut e = Expr::new();
        let cond = format!("attribute_not_exists({})", e.n(keys::PK));
        let item = items::with_key(items::to_item(m)?, &m.key()?);
        self.put_if(item, Some(&cond), &e).await
    }

    /// A page of a webhook's messages, newest first, after message `after`.
    pub async fn messages_page(
        &self,
        net: &NetworkId,
        webhook: &str,
        after: Option<String>,
        limit: i32,
    ) -> Result<(Vec<MessageItem>, Option<String>), StoreError> {
        let page = self
            .query_page_newest_first(
                &keys::messages_partition(net, webhook),
                &SortKey::All,
                after,
                Some(limit),
            )
            .await?;
        let found = page
            .items
            .into_iter()
            .map(items::from_item)
            .collect::<Result<_, _>>()?;
        Ok((found, page.last_sk))
    }

    /// Makes a message due at `now_ms` whatever its state: one more attempt. None if there
    /// is no such message.
    pub async fn make_due(
        &self,
        net: &NetworkId,
        webhook: &str,
        message_id: &str,
        now_ms: u64,
    ) -> Result<Option<MessageItem>, StoreError> {
        let (dpk, dsk) = keys::due(net, webhook, message_id, now_ms);
        let mut e = Expr::new();
        let update = format!(
            "SET {st} = {p}, {next} = {now}, {gpk} = {dpkv}, {gsk} = {dskv}",
            st = e.n("status"),
            p = e.v(s("pending")),
            next = e.n("next_attempt_ms"),
            now = e.v(n(now_ms)),
            gpk = e.n(keys::GSI1PK),
            dpkv = e.v(s(dpk)),
            gsk = e.n(keys::GSI1SK),
            dskv = e.v(s(dsk)),
        );
        let cond = format!("attribute_exists({})", e.n(keys::PK));
        let got = self
            .update_if(
                &keys::message(net, webhook, message_id),
                &update,
                Some(&cond),
                &e,
            )
            .await?;
        got.map(items::from_item).transpose()
    }

    /// Makes every message of the webhook made since `since_ms` due now, 16 at a time; how
    /// many.
    pub async fn replay_messages(
        &self,
        net: &NetworkId,
        webhook: &str,
        since_ms: u64,
        now_ms: u64,
    ) -> Result<u64, StoreError> {
        use futures::StreamExt;
        let pk = keys::messages_partition(net, webhook);
        let sort = SortKey::Between(message_id_floor(since_ms), "msg_~".into());
        let mut after = None;
        let mut count = 0;
        loop {
            let page = self.query_page(&pk, &sort, after, Some(200)).await?;
            let ids: Vec<String> = page
                .items
                .iter()
                .filter_map(|i| items::text(i, keys::SK).map(str::to_owned))
                .collect();
            let mut done = futures::stream::iter(ids)
                .map(|id| async move { self.make_due(net, webhook, &id, now_ms).await })
                .buffer_unordered(16);
            while let Some(r) = done.next().await {
                count += u64::from(r?.is_some());
            }
            match page.last_sk {
                Some(sk) => after = Some(sk),
                None => return Ok(count),
            }
        }
    }
}

/// A message item read back, without its keys.
pub fn message_of(item: Item) -> Result<MessageItem, StoreError> {
    items::from_item(item)
}
