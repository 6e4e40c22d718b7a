//! Program rules, events and rewards.
//!
//! The request path writes an event and nothing else (`events`). The rewards consumer derives
//! everything else from the table's stream (`derive`): signup events from new connections,
//! rewards from events, and balances from rewards (`balance`), merged per batch.

pub mod balance;
pub mod derive;
pub mod deso;
pub mod events;
pub mod list;
pub mod payouts;
pub mod reverse;
pub mod rules;
pub mod status;
pub mod writes;

use serde::{Deserialize, Serialize};

use crate::domain::reward::RewardStatus;

/// An event as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventItem {
    pub network_id: String,
    pub event_id: String,
    pub user: String,
    pub event: String,
    pub amount_usd_cents: u64,
    /// Canonical JSON text of the metadata object.
    pub metadata: String,
    pub accepted_at: String,
    pub accepted_ns: u64,
    /// Set for a signup: the only program it earns in, and the upline it earns for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upline: Option<Vec<String>>,
    #[serde(default)]
    pub settled: bool,
    /// The rewards it earned, once settled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewards: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_reason: Option<String>,
    /// The reversal has voided or clawed back every reward of the event.
    #[serde(default)]
    pub reversal_done: bool,
}

impl EventItem {
    /// Every reward is written and, after a reversal, none is payable.
    pub fn settled(&self) -> bool {
        self.settled && (self.reversed_at.is_none() || self.reversal_done)
    }
}

/// A reward as stored, both the canonical item and the beneficiary's copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RewardItem {
    pub network_id: String,
    pub reward_id: String,
    pub program_id: String,
    pub rule_id: String,
    pub event_id: String,
    pub event: String,
    pub referee: String,
    pub user: String,
    pub level: u8,
    pub amount_usd_cents: i64,
    /// As written; a pending reward past `approvable_ns` reads as approved.
    pub status: RewardStatus,
    pub created_at: String,
    pub created_ns: u64,
    pub approvable_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
