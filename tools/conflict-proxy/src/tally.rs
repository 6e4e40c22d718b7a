//! What the proxy counts: transactions, conflicts, and which items they held.

use std::collections::HashMap;

use serde_json::{json, Value};

/// What the proxy has seen since it started or was reset.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) transactions: u64,
    pub(crate) conflicts: u64,
    pub(crate) single_conflicts: u64,
    pub(crate) per_item: HashMap<String, u64>,
    /// Per item, the cancelled transactions it was held in.
    pub(crate) conflicted: HashMap<String, u64>,
    /// Requests per operation (`PutItem`, `Query`, ...).
    pub(crate) calls: HashMap<String, u64>,
}

impl Tally {
    /// The counts, with the `top` items most included and most conflicted.
    pub(crate) fn render(&self, top: usize) -> Value {
        let t = self;
        let mut items: Vec<(&String, &u64)> = t.per_item.iter().collect();
        items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut contested: Vec<(&String, &u64)> = t.conflicted.iter().collect();
        contested.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let contested: Vec<Value> = contested
            .into_iter()
            .take(top)
            .map(|(k, n)| json!({"item": k, "conflicts": n}))
            .collect();
        let hot: Vec<Value> = items
            .into_iter()
            .take(top)
            .map(|(k, n)| {
                json!({"item": k, "transactions": n,
                       "share": if t.transactions > 0 { *n as f64 / t.transactions as f64 } else { 0.0 }})
            })
            .collect();
        json!({
            "transactions": t.transactions,
            "conflicts": t.conflicts,
            "single_write_conflicts": t.single_conflicts,
            "hottest": hot,
            "most_conflicted": contested,
            "calls": t.calls,
        })
    }
}
