//! Where the scheduled repair stopped, and the stream batches the local mappings gave up.

use serde::{Deserialize, Serialize};

use super::RepairReport;
use crate::store::{items, keys, n, Expr, Store, StoreError, TxError};

/// How far the scheduled repair has read the changes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RepairState {
    /// Changes before this time (epoch ms) are repaired.
    pub through_ms: u64,
    #[serde(default)]
    pub last: RepairReport,
}

impl Store {
    /// The scheduled repair's progress.
    pub async fn repair_state(&self) -> Result<Option<RepairState>, StoreError> {
        match self.get(&keys::repair_state()).await? {
            Some(item) => Ok(Some(items::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Records the scheduled repair's progress; a slower run never moves it back.
    pub async fn save_repair_state(&self, state: &RepairState) -> Result<(), StoreError> {
        let key = keys::repair_state();
        let mut e = Expr::new();
        let cond = format!(
            "attribute_not_exists({}) OR {} < {}",
            e.n(keys::PK),
            e.n("through_ms"),
            e.v(n(state.through_ms))
        );
        let item = items::with_key(items::to_item(state)?, &key);
        match self
            .transact(vec![self.tx_put(item, Some(&cond), &e, false)?])
            .await
        {
            Ok(()) | Err(TxError::Cancelled(_)) => Ok(()),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}

/// A batch a local mapping gave up: a line to show, and the keys (`PK SK`) of its records.
#[derive(Clone, Debug)]
pub struct GivenUp {
    pub line: String,
    pub keys: Vec<String>,
}

impl Store {
    /// The batches the local mappings gave up for `function` (`STREAMFAIL#`).
    pub async fn stream_failures(&self, function: &str) -> Result<Vec<GivenUp>, StoreError> {
        let items = self
            .query_partition(false, &keys::stream_failures_partition(function), None)
            .await?;
        Ok(items
            .iter()
            .map(|i| {
                let records: Vec<serde_json::Value> = items::text(i, "records")
                    .and_then(|r| serde_json::from_str(r).ok())
                    .unwrap_or_default();
                let key = |r: &serde_json::Value, a: &str| {
                    r["dynamodb"]["Keys"][a]["S"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                };
                GivenUp {
                    line: format!(
                        "{} records {}..{} after {} attempts: {}",
                        items::num(i, "batch_size"),
                        items::text(i, "start_sequence_number").unwrap_or_default(),
                        items::text(i, "end_sequence_number").unwrap_or_default(),
                        items::num(i, "attempts"),
                        items::text(i, "reason").unwrap_or_default()
                    ),
                    keys: records
                        .iter()
                        .map(|r| format!("{} {}", key(r, "PK"), key(r, "SK")))
                        .collect(),
                }
            })
            .collect())
    }
}
