//! The wire shapes of rules, events and rewards, shared by their endpoints.

use serde_json::{json, Value};

use crate::clock;
use crate::domain::reward::{status_at, Rule};
use crate::store::rewards::{EventItem, RewardItem};

pub(crate) fn rule_json(r: &Rule) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

pub(crate) fn event_json(e: &EventItem) -> Value {
    let mut v = json!({
        "event_id": e.event_id,
        "user": e.user,
        "event": e.event,
        "amount_usd_cents": e.amount_usd_cents,
        "metadata": serde_json::from_str::<Value>(&e.metadata).unwrap_or_else(|_| json!({})),
        "accepted_at": e.accepted_at,
        "settled": e.settled(),
    });
    if let Some(at) = &e.reversed_at {
        v["reversed_at"] = json!(at);
    }
    v
}

pub(crate) fn reward_json(r: &RewardItem, now_ns: u64) -> Value {
    let mut v = json!({
        "reward_id": r.reward_id,
        "program_id": r.program_id,
        "rule_id": r.rule_id,
        "event_id": r.event_id,
        "event": r.event,
        "referee": r.referee,
        "user": r.user,
        "level": r.level,
        "amount_usd_cents": r.amount_usd_cents,
        "status": status_at(r.status, r.approvable_ns, now_ns).as_str(),
        "created_at": r.created_at,
        "approvable_at": clock::rfc3339(r.approvable_ns),
    });
    for (field, value) in [
        ("payout_id", &r.payout_id),
        ("reverses", &r.reverses),
        ("reason", &r.reason),
    ] {
        if let Some(x) = value {
            v[field] = json!(x);
        }
    }
    v
}
