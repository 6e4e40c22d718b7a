//! The webhook sender, run every minute by EventBridge (and by the local stack's poller): for
//! `WEBHOOK_SWEEP_SECS` it looks for due messages every `WEBHOOK_POLL_MS`, claims each, and
//! attempts it beside the others, so one slow endpoint holds only its own messages (at most
//! `PER_WEBHOOK` at once). Then it waits for the attempts in flight.
//!
//! Each attempt resolves and checks the host again, signs with every secret in use, and
//! records the answer: delivered, due again after the schedule's next wait, or failed. A 410
//! disables the webhook at once; failures only, for `WEBHOOK_DISABLE_AFTER_SECS`, too.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use lambda_http::{Error, LambdaEvent};
use serde_json::{json, Value};

use crate::domain::webhook::{self, next_wait, outcome, Outcome};
use crate::domain::NetworkId;
use crate::outbound::Answer;
use crate::store::keys::DUE_SHARDS;
use crate::store::webhooks::messages::MessageItem;
use crate::store::webhooks::sending::Recorded;
use crate::store::webhooks::{SecretItem, WebhookItem};
use crate::store::StoreError;
use crate::{clock, AppState};

crate::lambda::handler!(Scheduled);

/// Attempts one webhook may have in flight in one sender. A look claims up to this many, every
/// poll: one sender gets up to twice this many messages a second to one webhook.
pub const PER_WEBHOOK: usize = 64;
/// Due messages read per partition per look.
const LOOK_LIMIT: i32 = 100;

pub async fn handle(state: &AppState, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    let r = sweep(state, state.config.webhooks.sweep, None).await;
    Ok(json!({ "attempts": r.attempts, "delivered": r.delivered, "errors": r.errors }))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    pub attempts: u64,
    pub delivered: u64,
    /// Store errors: the message stays due and comes back when its lease ends.
    pub errors: u64,
}

type Hook = (Option<WebhookItem>, Option<SecretItem>);

/// Looks for due messages until `how_long` has passed, then finishes what is in flight.
/// `only`: the messages of one network (the tests, whose networks share one table).
pub async fn sweep(state: &AppState, how_long: Duration, only: Option<&NetworkId>) -> Sweep {
    let w = &state.config.webhooks;
    let end = Instant::now() + how_long;
    let mut report = Sweep::default();
    let mut in_flight = FuturesUnordered::new();
    let mut per_hook: HashMap<String, usize> = HashMap::new();
    let mut next_look = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_look && now < end {
            next_look = now + w.poll;
            match look(state, &per_hook, only).await {
                Ok(claimed) => {
                    for (m, hook) in claimed {
                        *per_hook.entry(m.webhook_id.clone()).or_default() += 1;
                        in_flight.push(attempt(state, m, hook));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %crate::telemetry::error_chain(&e), "webhook sender: the due index could not be read");
                    report.errors += 1;
                }
            }
        }
        if in_flight.is_empty() && Instant::now() >= end {
            return report;
        }
        let wake = tokio::time::sleep_until(next_look.min(end).into());
        tokio::select! {
            _ = wake => {}
            Some((hook, done)) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(n) = per_hook.get_mut(&hook) {
                    *n = n.saturating_sub(1);
                }
                match done {
                    Ok(delivered) => {
                        report.attempts += 1;
                        report.delivered += u64::from(delivered);
                    }
                    Err(e) => {
                        tracing::warn!(error = %crate::telemetry::error_chain(&e), "webhook sender: an attempt was not recorded");
                        report.errors += 1;
                    }
                }
            }
        }
    }
}

/// Claims what is due in every partition (skipping webhooks at their limit), and reads the
/// webhooks and secrets of what it claimed in one BatchGetItem.
async fn look(
    state: &AppState,
    per_hook: &HashMap<String, usize>,
    only: Option<&NetworkId>,
) -> Result<Vec<(MessageItem, Hook)>, StoreError> {
    let now = clock::now_ms();
    let pages = futures::future::try_join_all(
        (0..DUE_SHARDS).map(|s| state.store.due_messages(s, now, LOOK_LIMIT)),
    )
    .await?;
    let mut room = per_hook.clone();
    let mut wanted = Vec::new();
    for m in pages.into_iter().flatten() {
        if only.is_some_and(|net| net.as_str() != m.network_id) {
            continue;
        }
        let n = room.entry(m.webhook_id.clone()).or_default();
        if *n < PER_WEBHOOK {
            *n += 1;
            wanted.push(m);
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let lease = now + state.config.webhooks.timeout.as_millis() as u64 + 5_000;
    let claims: Vec<Result<Option<MessageItem>, StoreError>> = futures::stream::iter(wanted)
        .map(|m| async move { state.store.claim_message(&m, lease).await })
        .buffer_unordered(16)
        .collect()
        .await;
    let claimed: Vec<MessageItem> = claims
        .into_iter()
        .filter_map(Result::ok)
        .flatten()
        .collect();
    let mut hooks: Vec<(NetworkId, String)> = Vec::new();
    for m in &claimed {
        let key = (m.net()?, m.webhook_id.clone());
        if !hooks.contains(&key) {
            hooks.push(key);
        }
    }
    let found = state.store.webhooks_for_sending(&hooks).await?;
    Ok(claimed
        .into_iter()
        .map(|m| {
            let hook = found
                .get(&(m.network_id.clone(), m.webhook_id.clone()))
                .cloned()
                .unwrap_or((None, None));
            (m, hook)
        })
        .collect())
}

/// One attempt of a claimed message; whether it was delivered.
async fn attempt(
    state: &AppState,
    m: MessageItem,
    (hook, secret): Hook,
) -> (String, Result<bool, StoreError>) {
    let id = m.webhook_id.clone();
    (id, attempt_inner(state, &m, hook, secret).await)
}

async fn attempt_inner(
    state: &AppState,
    m: &MessageItem,
    hook: Option<WebhookItem>,
    secret: Option<SecretItem>,
) -> Result<bool, StoreError> {
    let w = &state.config.webhooks;
    let store = &state.store;
    // A deleted or disabled webhook sends nothing: its message fails without an attempt.
    let (Some(hook), Some(secret)) = (hook, secret) else {
        store
            .record_attempt(m, None, false, Recorded::Failed)
            .await?;
        return Ok(false);
    };
    if !hook.active {
        store
            .record_attempt(m, None, false, Recorded::Failed)
            .await?;
        return Ok(false);
    }
    let net = m.net()?;
    let now_ms = clock::now_ms();
    let answer = match webhook::parse_url(&hook.url, w.allow_local) {
        Err(r) => Answer::None(r.message().to_owned()),
        Ok(target) => {
            let ts = (now_ms / 1000) as i64;
            let keys: Vec<Vec<u8>> = secret
                .signing(now_ms)
                .into_iter()
                .filter_map(webhook::secret_key)
                .collect();
            let headers = [
                ("webhook-id", m.message_id.clone()),
                ("webhook-timestamp", ts.to_string()),
                (
                    "webhook-signature",
                    webhook::signature_header(&keys, &m.message_id, ts, &m.body),
                ),
            ];
            state.sender().post(&target, &headers, m.body.clone()).await
        }
    };
    let code = match &answer {
        Answer::Status(c) => Some(*c),
        Answer::None(why) => {
            tracing::info!(webhook = %hook.webhook_id, message = %m.message_id, why = %why, "webhook attempt got no answer");
            None
        }
    };
    let done_ms = clock::now_ms();
    match outcome(code) {
        Outcome::Delivered => {
            store
                .record_attempt(m, code, true, Recorded::Delivered)
                .await?;
            if hook.failing_since_ms.is_some() {
                store.clear_failing(&net, &hook.webhook_id).await?;
            }
            Ok(true)
        }
        Outcome::Gone => {
            store
                .record_attempt(m, code, true, Recorded::Failed)
                .await?;
            store
                .disable_webhook(&net, &hook.webhook_id, "gone")
                .await?;
            Ok(false)
        }
        Outcome::Failed => {
            let next = match next_wait(m.attempts + 1, &w.schedule) {
                Some(wait) => Recorded::Retry(done_ms + wait.as_millis() as u64),
                None => Recorded::Failed,
            };
            store.record_attempt(m, code, true, next).await?;
            match hook.failing_since_ms {
                None => store.mark_failing(&net, &hook.webhook_id, done_ms).await?,
                Some(since)
                    if done_ms.saturating_sub(since) >= w.disable_after.as_millis() as u64 =>
                {
                    store
                        .disable_webhook(&net, &hook.webhook_id, "failing")
                        .await?
                }
                Some(_) => {}
            }
            Ok(false)
        }
    }
}
