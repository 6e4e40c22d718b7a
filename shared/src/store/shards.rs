//! Which shard a writer takes, decided in the process. Like a striped counter, each process
//! keeps a preferred slot and moves to a random one when a transaction conflicts on it, so
//! steady concurrent writers settle on distinct shards; within a process, concurrent requests
//! never share a slot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::shards::{CODE_SHARDS, FENCE_SHARDS};

/// Slots a lease is taken from; every shard count divides it.
pub const SLOTS: usize = 32;
const _: () =
    assert!(SLOTS.is_multiple_of(CODE_SHARDS) && SLOTS.is_multiple_of(FENCE_SHARDS) && SLOTS <= 64);

/// How long a shard seen full is skipped before it is tried again.
const FULL_FOR: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct ShardPicker {
    preferred: AtomicUsize,
    busy: Mutex<u64>,
    /// Per code: its config version and the shards seen full under it.
    full: Mutex<HashMap<String, (u64, u64, Instant)>>,
}

/// A slot held for one request; given back when dropped.
#[derive(Debug)]
pub struct Lease<'a> {
    picker: &'a ShardPicker,
    pub slot: usize,
    held: bool,
}

impl Lease<'_> {
    /// The shard among `n` this lease writes to.
    pub fn shard(&self, n: usize) -> usize {
        self.slot % n.max(1)
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.held {
            if let Ok(mut b) = self.picker.busy.lock() {
                *b &= !(1u64 << self.slot);
            }
        }
    }
}

impl Default for ShardPicker {
    fn default() -> Self {
        Self::new()
    }
}

impl ShardPicker {
    pub fn new() -> ShardPicker {
        ShardPicker {
            preferred: AtomicUsize::new(random_slot()),
            busy: Mutex::new(0),
            full: Mutex::new(HashMap::new()),
        }
    }

    /// The preferred slot, or the next one no other request of this process holds.
    pub fn lease(&self) -> Lease<'_> {
        let start = self.preferred.load(Ordering::Relaxed);
        if let Ok(mut busy) = self.busy.lock() {
            for i in 0..SLOTS {
                let slot = (start + i) % SLOTS;
                if *busy & (1u64 << slot) == 0 {
                    *busy |= 1u64 << slot;
                    return Lease {
                        picker: self,
                        slot,
                        held: true,
                    };
                }
            }
        }
        Lease {
            picker: self,
            slot: random_slot(),
            held: false,
        }
    }

    /// A transaction conflicted on a shard of this lease: prefer another slot from now on.
    pub fn collided(&self, lease: &Lease<'_>) {
        let _ = self.preferred.compare_exchange(
            lease.slot,
            random_slot(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// A shard of `code` not seen full under `version`, chosen by the lease among those, so
    /// that concurrent writers spread over what room is left rather than crowd the next one.
    pub fn code_shard(&self, code: &str, version: u64, lease: &Lease<'_>) -> Option<usize> {
        let mask = self.full_mask(code, version);
        let open: Vec<usize> = (0..CODE_SHARDS)
            .filter(|k| mask & (1u64 << k) == 0)
            .collect();
        (!open.is_empty()).then(|| open[lease.slot % open.len()])
    }

    /// Records that shards of `code` are full under `version`.
    pub fn mark_full(&self, code: &str, version: u64, shards: impl IntoIterator<Item = usize>) {
        if let Ok(mut full) = self.full.lock() {
            let now = Instant::now();
            full.retain(|_, (_, _, at)| now.duration_since(*at) < FULL_FOR);
            let entry = full.entry(code.to_owned()).or_insert((version, 0, now));
            if entry.0 != version {
                *entry = (version, 0, now);
            }
            for k in shards {
                entry.1 |= 1u64 << k;
            }
        }
    }

    fn full_mask(&self, code: &str, version: u64) -> u64 {
        match self.full.lock() {
            Ok(full) => match full.get(code) {
                Some((v, mask, at)) if *v == version && at.elapsed() < FULL_FOR => *mask,
                _ => 0,
            },
            Err(_) => 0,
        }
    }
}

fn random_slot() -> usize {
    crate::random::u16() as usize % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_leases_in_a_process_never_share_a_slot() {
        let p = ShardPicker::new();
        let leases: Vec<_> = (0..SLOTS).map(|_| p.lease()).collect();
        let mut slots: Vec<usize> = leases.iter().map(|l| l.slot).collect();
        slots.sort();
        slots.dedup();
        assert_eq!(slots.len(), SLOTS);
        drop(leases);
        let a = p.lease();
        let b = p.lease();
        assert_ne!(a.slot, b.slot);
    }

    #[test]
    fn a_conflict_moves_the_preference() {
        let p = ShardPicker::new();
        let first = p.lease().slot;
        let mut moved = false;
        for _ in 0..20 {
            let l = p.lease();
            p.collided(&l);
            drop(l);
            if p.lease().slot != first {
                moved = true;
                break;
            }
        }
        assert!(moved);
    }

    #[test]
    fn full_shards_are_skipped_until_the_config_changes() {
        let p = ShardPicker::new();
        let l = p.lease();
        let first = p.code_shard("abcdefgh", 1, &l).unwrap();
        p.mark_full("abcdefgh", 1, [first]);
        let next = p.code_shard("abcdefgh", 1, &l).unwrap();
        assert_ne!(next, first);
        p.mark_full("abcdefgh", 1, 0..CODE_SHARDS);
        assert_eq!(p.code_shard("abcdefgh", 1, &l), None);
        drop(l);
        // writers spread over the shards left: with 2 open, leases of every slot use both
        let q = ShardPicker::new();
        q.mark_full("c", 1, (0..CODE_SHARDS).filter(|k| *k != 3 && *k != 17));
        let leases: Vec<_> = (0..SLOTS).map(|_| q.lease()).collect();
        let mut used: Vec<usize> = leases
            .iter()
            .filter_map(|l| q.code_shard("c", 1, l))
            .collect();
        used.sort();
        used.dedup();
        assert_eq!(used, [3, 17]);
        let p = ShardPicker::new();
        let l = p.lease();
        assert!(
            p.code_shard("abcdefgh", 2, &l).is_some(),
            "a new config clears it"
        );
    }
}
