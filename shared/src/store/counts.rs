//! Per-level downline counts, derived from the committed edges by the stream aggregator
//! (`store::aggregate`) and kept off the signup path. Each member's counts live in
//! `COUNT_SHARDS` items summed on read.

use std::collections::HashMap;

use serde::Deserialize;

use super::{items, keys, Item, Key, StoreError};
use crate::domain::shards::COUNT_SHARDS;
use crate::domain::{Level, NetworkId, ProgramId, UserId};

/// A member's downline counts, as settled so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub levels: [u64; Level::MAX.depth()],
    /// Commit time of the newest connection counted, in ns.
    pub as_of_ns: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct CountItem {
    #[serde(default)]
    c1: i64,
    #[serde(default)]
    c2: i64,
    #[serde(default)]
    c3: i64,
    #[serde(default)]
    c4: i64,
    #[serde(default)]
    c5: i64,
    #[serde(default)]
    c6: i64,
    #[serde(default)]
    c7: i64,
    #[serde(default)]
    c8: i64,
    #[serde(default)]
    c9: i64,
    #[serde(default)]
    c10: i64,
    #[serde(default)]
    as_of_ns: Option<u64>,
}

impl CountItem {
    fn levels(&self) -> [i64; 10] {
        [
            self.c1, self.c2, self.c3, self.c4, self.c5, self.c6, self.c7, self.c8, self.c9,
            self.c10,
        ]
    }
}

pub fn count_keys(net: &NetworkId, prog: &ProgramId, user: &UserId) -> Vec<Key> {
    (0..COUNT_SHARDS)
        .map(|c| keys::counts(net, prog, user, c))
        .collect()
}

/// The counts among items read with `count_keys`.
pub fn counts_from(got: &mut HashMap<Key, Item>, keys: &[Key]) -> Result<Counts, StoreError> {
    let mut out = Counts::default();
    let mut sum = [0i64; 10];
    for k in keys {
        if let Some(item) = got.remove(k) {
            let c: CountItem = items::from_item(item)?;
            for (total, v) in sum.iter_mut().zip(c.levels()) {
                *total += v;
            }
            out.as_of_ns = out.as_of_ns.max(c.as_of_ns);
        }
    }
    for (o, v) in out.levels.iter_mut().zip(sum) {
        *o = v.max(0) as u64;
    }
    Ok(out)
}
