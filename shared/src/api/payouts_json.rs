//! The wire shape of a payout.

use serde_json::{json, Value};

use crate::store::rewards::payouts::PayoutItem;

pub(crate) fn payout_json(p: &PayoutItem) -> Value {
    let mut v = json!({
        "payout_id": p.payout_id,
        "status": p.status,
        "users": p.users,
        "total_usd_cents": p.total_usd_cents,
        "min_amount_usd_cents": p.min_amount_usd_cents,
        "created_at": p.created_at,
    });
    if let Some(prog) = &p.program_id {
        v["program_id"] = json!(prog);
    }
    v
}
