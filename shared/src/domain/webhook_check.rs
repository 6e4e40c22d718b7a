//! Invariant 8 of the contract, over what `refnet-admin check` reads: every committed change
//! that an active webhook subscribes to has a message for it (delivered, pending or failed).
//! The changes it can recompute from the table are new connections (never moved since) and
//! new rewards; changes newer than `settle_ms` are left to the fanout.

use std::collections::{BTreeMap, BTreeSet};

use super::check::Report;
use super::webhook::{message_digest, subscribed, EventType};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookFact {
    pub events: Vec<String>,
    pub active: bool,
    /// Since when it takes its current events, active (ms).
    pub since_ms: u64,
}

/// A change whose message can be recomputed: its type, identity and commit time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToldFact {
    pub net: String,
    pub kind: EventType,
    pub identity: String,
    pub at_ms: u64,
}

#[derive(Clone, Debug, Default)]
pub struct WebhookFacts {
    /// (network, webhook) → its settings.
    pub hooks: BTreeMap<(String, String), HookFact>,
    /// (network, webhook, message digest).
    pub messages: BTreeSet<(String, String, String)>,
    pub told: Vec<ToldFact>,
    pub now_ms: u64,
    /// Changes younger than this are not held to the invariant yet.
    pub settle_ms: u64,
    /// Changes older than this have had their messages expire (ms).
    pub keep_ms: u64,
}

pub fn check_webhooks(f: &WebhookFacts, report: &mut Report) {
    let mut held = 0;
    for t in &f.told {
        let young = t.at_ms + f.settle_ms > f.now_ms;
        let expired = t.at_ms + f.keep_ms < f.now_ms;
        if young || expired {
            continue;
        }
        let digest = message_digest(t.kind, &t.identity);
        for ((net, id), h) in f.hooks.range((t.net.clone(), String::new())..) {
            if *net != t.net {
                break;
            }
            if !h.active || t.at_ms < h.since_ms || !subscribed(&h.events, t.kind) {
                continue;
            }
            held += 1;
            if !f
                .messages
                .contains(&(net.clone(), id.clone(), digest.clone()))
            {
                report.violations.push(format!(
                    "{net}: webhook {id} has no message for {} {}",
                    t.kind.as_str(),
                    t.identity
                ));
            }
        }
    }
    report.seen.insert("webhook messages held", held);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::message_id;

    #[test]
    fn a_subscribed_change_without_its_message_is_a_violation() {
        let mut f = WebhookFacts {
            now_ms: 1_000_000,
            settle_ms: 1_000,
            keep_ms: 500_000,
            ..WebhookFacts::default()
        };
        let hook = |events: &[&str], since_ms| HookFact {
            events: events.iter().map(|e| e.to_string()).collect(),
            active: true,
            since_ms,
        };
        f.hooks.insert(("n".into(), "wh_a".into()), hook(&["*"], 0));
        f.hooks
            .insert(("n".into(), "wh_b".into()), hook(&["reward.created"], 0));
        f.hooks
            .insert(("n".into(), "wh_c".into()), hook(&["*"], 990_000));
        let told = |identity: &str, at_ms| ToldFact {
            net: "n".into(),
            kind: EventType::ConnectionCreated,
            identity: identity.into(),
            at_ms,
        };
        f.told = vec![
            told("MEM#n#p#u|1", 900_000),
            told("young", 999_500),
            told("expired", 100_000),
        ];
        let mut r = Report::default();
        check_webhooks(&f, &mut r);
        // only wh_a takes it: wh_b did not subscribe, wh_c came later
        assert_eq!(r.violations.len(), 1, "{r:?}");
        let id = message_id(900_000, "connection.created|MEM#n#p#u|1");
        f.messages
            .insert(("n".into(), "wh_a".into(), id[15..].to_owned()));
        let mut r = Report::default();
        check_webhooks(&f, &mut r);
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.seen["webhook messages held"], 1);
    }
}
