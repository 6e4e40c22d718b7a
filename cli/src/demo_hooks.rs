//! The demo's webhooks, for the sample events: one to read, patch, test and replay (off, so
//! the local stack sends nothing until its URL is a receiver of yours), one to delete, and a
//! delivered message to retry, and a failed one.

use shared::clock;
use shared::domain::webhook::{self, EventType};
use shared::domain::NetworkId;
use shared::store::webhooks::messages::MessageItem;
use shared::store::webhooks::WebhookItem;
use shared::Store;

use crate::err;

pub const DEMO_WEBHOOK: &str = "wh_DemoHook1111111111111";
const DEMO_GONE: &str = "wh_Gone111111111111111111";
pub const DEMO_MESSAGE: &str = "msg_19af0000000aaaaaaaaaaaaaaaaaaaa";
/// Failed after every attempt: the console's deliveries view shows it, and its retry.
const DEMO_FAILED: &str = "msg_19af0000000bbbbbbbbbbbbbbbbbbbb";

pub async fn seed(store: &Store, net: &NetworkId, now: &clock::Now) -> Result<(), String> {
    for (id, description) in [
        (
            DEMO_WEBHOOK,
            "demo: set url to your receiver and active to true",
        ),
        (
            DEMO_GONE,
            "demo: the one events/delete-webhook.json deletes",
        ),
    ] {
        let hook = WebhookItem {
            network_id: net.as_str().to_owned(),
            webhook_id: id.into(),
            url: "http://127.0.0.1:9999/hooks".into(),
            events: vec!["*".into()],
            active: false,
            description: Some(description.into()),
            created_at: now.rfc3339.clone(),
            since_ms: now.ns / 1_000_000,
            failing_since_ms: None,
            disabled_reason: None,
        };
        let secret = webhook::secret_of(&[0x5e; 32]);
        store
            .insert_webhook(net, &hook, &secret)
            .await
            .map_err(err)?;
    }
    let t = EventType::WebhookTest;
    for (id, status, attempts, code) in [
        // Already delivered: the sample retry makes it due once more.
        (DEMO_MESSAGE, "delivered", 1, 204),
        (DEMO_FAILED, "failed", 8, 500),
    ] {
        let mut m = MessageItem::new(
            net,
            DEMO_WEBHOOK,
            id,
            t.as_str(),
            webhook::body(t, &now.rfc3339, serde_json::json!({})),
            &now.rfc3339,
            now.ns / 1_000_000,
        );
        m.status = status.into();
        m.attempts = attempts;
        m.last_status_code = Some(code);
        m.next_attempt_ms = None;
        m.due_pk = None;
        m.due_sk = None;
        store.put_message(&m).await.map_err(err)?;
    }
    Ok(())
}
