//! Tree fences. Each tree (the members sharing a root) has `FENCE_SHARDS` fence items.
//!
//! A plain link checks one of them: no move in progress, and the tree's epoch equal to the
//! one its referrer's upline was written under. A move raises all of them (bumping the epoch)
//! before it rewrites any upline and lowers them when done; so a link that read a referrer
//! before a move cannot commit after the move rewrote that referrer. Shard 0 also holds the
//! lock of a move whose destination is the tree, so the destination's uplines stay put.

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::Deserialize;

use crate::clock;
use crate::domain::shards::FENCE_SHARDS;
use crate::domain::{NetworkId, ProgramId, UserId};
use crate::store::{items, keys, n, s, Expr, Item, Store, StoreError};

#[derive(Debug, Default, Deserialize)]
pub struct FenceItem {
    #[serde(default)]
    pub fence: Option<String>,
    #[serde(default)]
    pub dest_lock: Option<String>,
    #[serde(default)]
    pub epoch: u64,
}

pub use crate::domain::graph::FenceState;

/// The state a fence item holds.
pub fn state_of(item: &Item) -> Result<FenceState, StoreError> {
    let f: FenceItem = items::from_item(item.clone())?;
    Ok(match f.fence {
        Some(job) => FenceState::Raised {
            job,
            epoch: f.epoch,
        },
        None => FenceState::Clear { epoch: f.epoch },
    })
}

fn epoch_is(e: &mut Expr, epoch: u64) -> String {
    let a = e.n("epoch");
    if epoch == 0 {
        format!("(attribute_not_exists({a}) OR {a} = {})", e.v(n(0)))
    } else {
        format!("{a} = {}", e.v(n(epoch)))
    }
}

impl Store {
    /// The check a link makes on shard `shard` of tree `root`'s fence.
    pub(crate) fn fence_check(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        root: &UserId,
        shard: usize,
        expect: &FenceState,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let f = e.n("fence");
        let cond = match expect {
            FenceState::Clear { epoch } => {
                format!("attribute_not_exists({f}) AND {}", epoch_is(&mut e, *epoch))
            }
            FenceState::Raised { job, epoch } => {
                format!("{f} = {} AND {}", e.v(s(job)), epoch_is(&mut e, *epoch))
            }
        };
        self.tx_check(
            &keys::fence(net, prog, root, shard % FENCE_SHARDS),
            &cond,
            &e,
        )
    }

    /// Raises the fence of tree `source` for `job` (all shards, the epoch one on) and locks
    /// tree `dest` as the destination, when it is another tree. Refused while either tree has
    /// a move of its own.
    pub(crate) fn fence_raise(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        source: &UserId,
        dest: Option<&UserId>,
        job: &str,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let now = clock::now();
        let free = |e: &mut Expr| {
            let (f, d) = (e.n("fence"), e.n("dest_lock"));
            format!("attribute_not_exists({f}) AND attribute_not_exists({d})")
        };
        self.fence_items(net, prog, (source, dest), |e, shard| {
            let update = match shard {
                Some(_) => format!(
                    "SET {} = {}, {} = {} ADD {} {}",
                    e.n("fence"),
                    e.v(s(job)),
                    e.n("moved_ns"),
                    e.v(n(now.ns)),
                    e.n("epoch"),
                    e.v(n(1))
                ),
                None => format!("SET {} = {}", e.n("dest_lock"), e.v(s(job))),
            };
            (update, free(e))
        })
    }

    /// Lowers what `fence_raise` raised, keeping the epochs.
    pub(crate) fn fence_lower(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        source: &UserId,
        dest: Option<&UserId>,
        job: &str,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let now = clock::now();
        self.fence_items(net, prog, (source, dest), |e, shard| {
            let attr = if shard.is_some() {
                "fence"
            } else {
                "dest_lock"
            };
            let a = e.n(attr);
            let cond = format!("{a} = {}", e.v(s(job)));
            let update = match shard {
                Some(_) => format!("REMOVE {a} SET {} = {}", e.n("moved_ns"), e.v(n(now.ns))),
                None => format!("REMOVE {a}"),
            };
            (update, cond)
        })
    }

    /// One update of every shard of the source tree's fence (`Some(shard)`), and of the
    /// destination's shard 0 when it is another tree (`None`): `each` gives its update and
    /// condition.
    fn fence_items(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        (source, dest): (&UserId, Option<&UserId>),
        each: impl Fn(&mut Expr, Option<usize>) -> (String, String),
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut tx = Vec::with_capacity(FENCE_SHARDS + 1);
        for k in 0..FENCE_SHARDS {
            let mut e = Expr::new();
            let (update, cond) = each(&mut e, Some(k));
            let key = keys::fence(net, prog, source, k);
            tx.push(self.tx_update(&key, &update, Some(&cond), &e)?);
        }
        if let Some(dest) = dest.filter(|d| *d != source) {
            let mut e = Expr::new();
            let (update, cond) = each(&mut e, None);
            let key = keys::fence(net, prog, dest, 0);
            tx.push(self.tx_update(&key, &update, Some(&cond), &e)?);
        }
        Ok(tx)
    }
}
