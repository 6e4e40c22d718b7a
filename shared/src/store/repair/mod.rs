//! Repair: the derived counts held against their source, the edges, and fixed where they
//! drifted (a stream record lost, expired, or given up as poison).
//!
//! The counts equal their ancestor's marks (`store::aggregate`), so a drift is a mark that
//! disagrees with its edge. The repair rereads what changed: the memberships whose placement
//! changed in a window (GSI2), each with its edges now and its recent past ones. Each fix is
//! one transaction that checks the edge, flips the mark and moves the count, the same step the
//! aggregator takes: whichever of the two comes first wins, the other finds the mark flipped
//! and adds nothing, so a repair racing the aggregator never makes a right count wrong.

mod fix;
mod members;
mod state;

pub use state::{GivenUp, RepairState};

use serde::{Deserialize, Serialize};

use crate::domain::{NetworkId, ProgramId};

/// What one repair found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    /// Memberships reread.
    pub members: u64,
    /// Edge marks checked.
    pub checked: u64,
    /// Edges the counts lacked, now counted.
    pub added: u64,
    /// Edges gone that the counts still held, now taken out.
    pub removed: u64,
    /// Disagreements that another writer settled first: not fixes.
    pub raced: u64,
    /// Count items rewritten from the marks (one DynamoDB refused to add to).
    pub rebuilt: u64,
    /// Reward amounts moved into the balance bucket of their status (`--full` only).
    #[serde(default)]
    pub balances: u64,
    /// The edges fixed (`PK SK`), the first `FIXED_SHOWN`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_edges: Vec<String>,
}

/// How many fixed edges a report names.
pub const FIXED_SHOWN: usize = 100;

impl RepairReport {
    pub fn fixed(&self) -> u64 {
        self.added + self.removed + self.rebuilt + self.balances
    }

    pub fn add(&mut self, o: &RepairReport) {
        self.members += o.members;
        self.checked += o.checked;
        self.added += o.added;
        self.removed += o.removed;
        self.raced += o.raced;
        self.rebuilt += o.rebuilt;
        self.balances += o.balances;
        let room = FIXED_SHOWN.saturating_sub(self.fixed_edges.len());
        self.fixed_edges
            .extend(o.fixed_edges.iter().take(room).cloned());
    }
}

/// Which memberships a repair covers.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub network: Option<NetworkId>,
    pub program: Option<ProgramId>,
}

impl Scope {
    fn covers(&self, net: &str, prog: &str) -> bool {
        self.network.as_ref().is_none_or(|n| n.as_str() == net)
            && self.program.as_ref().is_none_or(|p| p.as_str() == prog)
    }
}
