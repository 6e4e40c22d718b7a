//! How items that many writers share are spread: pure arithmetic, unit-tested.
//!
//! | what | shards | chosen by |
//! |---|---|---|
//! | a code's counters (and its cap, split) | `CODE_SHARDS` | the writer's lease |
//! | a tree's fence | `FENCE_SHARDS` | the writer's lease |
//! | an ancestor's downline edges | `EDGE_SHARDS` | a hash of the member |
//! | a code's referral history | `EDGE_SHARDS` | a hash of the referee |
//! | a member's aggregated counts | `COUNT_SHARDS` | the aggregator's batch |

use sha2::{Digest, Sha256};

use super::UserId;

pub const CODE_SHARDS: usize = 32;
pub const FENCE_SHARDS: usize = 32;
pub const EDGE_SHARDS: usize = 8;
pub const COUNT_SHARDS: usize = 4;

/// A stable shard in `0..n` for `key`: the same key lands on the same shard everywhere.
pub fn spread(key: &str, n: usize) -> usize {
    let d = Sha256::digest(key.as_bytes());
    (u16::from_be_bytes([d[0], d[1]]) as usize) % n.max(1)
}

/// The edge (and referral history) shard of a member.
pub fn member_shard(user: &UserId) -> usize {
    spread(user.as_str(), EDGE_SHARDS)
}

/// A cap of `max` split over `n` shards: the shard caps sum to `max` exactly.
pub fn split_cap(max: u64, n: usize) -> Vec<u64> {
    let n = n.max(1);
    let (base, extra) = (max / n as u64, (max % n as u64) as usize);
    (0..n).map(|k| base + u64::from(k < extra)).collect()
}

/// New shard caps for a new `max`, given each shard's total so far. What is left to take is
/// spread evenly, so the shard caps sum to `max` whenever `max` is at least the total; below it,
/// every shard is full.
pub fn resplit_cap(max: u64, totals: &[u64]) -> Vec<u64> {
    let taken: u64 = totals.iter().sum();
    let room = split_cap(max.saturating_sub(taken), totals.len());
    totals.iter().zip(room).map(|(t, r)| t + r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_sum_exactly() {
        for (max, n) in [(500, 32), (5, 32), (0, 32), (1_000_000, 32), (7, 1)] {
            let caps = split_cap(max, n);
            assert_eq!(caps.len(), n);
            assert_eq!(caps.iter().sum::<u64>(), max, "{max} over {n}");
            let (lo, hi) = (caps.iter().min().unwrap(), caps.iter().max().unwrap());
            assert!(hi - lo <= 1, "even: {caps:?}");
        }
    }

    #[test]
    fn resplits_keep_what_was_taken() {
        let totals = [5, 0, 2, 1];
        let caps = resplit_cap(12, &totals);
        assert_eq!(caps.iter().sum::<u64>(), 12);
        assert!(caps.iter().zip(totals).all(|(c, t)| *c >= t));
        // lowered below the total: every shard is full, none can take another
        let caps = resplit_cap(3, &totals);
        assert_eq!(caps, totals.to_vec());
    }

    #[test]
    fn spread_is_stable_and_covers_the_range() {
        assert_eq!(spread("a@x.io", 8), spread("a@x.io", 8));
        let mut seen = [false; 8];
        for i in 0..200 {
            seen[spread(&format!("u{i}@x.io"), 8)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
