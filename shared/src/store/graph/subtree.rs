//! Loading a small subtree, at any depth, through its edges: the edges under a member reach
//! ten levels down; below that, the edges under the members ten levels down. Every read is
//! bounded by what the caller can take, so a huge subtree costs a few pages, not itself.

use super::downline::{EdgeRow, Levels};
use super::Member;
use crate::domain::graph::still_under;
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{Level, NetworkId, ProgramId, UserId};
use crate::store::{Store, StoreError};

impl Store {
    /// Every edge under `ancestor`, or None when there are more than `cap`. Each shard is read
    /// side by side, up to `cap + 1` rows: at most `EDGE_SHARDS * (cap + 1)` rows in all.
    pub(crate) async fn edges_within(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
        cap: usize,
    ) -> Result<Option<Vec<EdgeRow>>, StoreError> {
        let all = Levels::UpTo(Level::MAX);
        let want = i32::try_from(cap + 1).unwrap_or(i32::MAX);
        let reads = (0..EDGE_SHARDS).map(|s| async move {
            let (rows, last) = self
                .edge_page(net, prog, (ancestor, s), all, (None, Some(want)))
                .await?;
            Ok::<_, StoreError>((rows, last.is_some()))
        });
        let mut rows = Vec::new();
        for (part, more) in futures::future::try_join_all(reads).await? {
            if more {
                return Ok(None);
            }
            rows.extend(part);
        }
        if rows.len() > cap {
            return Ok(None);
        }
        rows.sort_by(|a, b| a.sk.cmp(&b.sk));
        Ok(Some(rows))
    }

    /// Every member below `user` at any depth, with its depth (1 = direct referee), top
    /// down; None when there are more than `budget`.
    pub(crate) async fn load_subtree(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        budget: usize,
    ) -> Result<Option<Vec<(Member, usize)>>, StoreError> {
        let mut out: Vec<(Member, usize)> = Vec::new();
        let mut frontier = vec![(user.clone(), 0usize)];
        while let Some((top, base)) = frontier.pop() {
            let Some(rows) = self
                .edges_within(net, prog, &top, budget - out.len())
                .await?
            else {
                return Ok(None);
            };
            let users: Vec<UserId> = rows.iter().map(|r| r.user.clone()).collect();
            let members = self.members(net, prog, &users).await?;
            for (row, m) in rows.iter().zip(members) {
                if !m.exists() {
                    return Err(StoreError::Corrupt("edge without membership".into()));
                }
                // A leaf that left since its edge was read is no longer the move's.
                if !still_under(&m.view, &top, row.level as usize) {
                    continue;
                }
                if row.level == Level::MAX.get() && m.view.kids {
                    frontier.push((m.view.user.clone(), base + Level::MAX.depth()));
                }
                out.push((m, base + row.level as usize));
            }
        }
        out.sort_by_key(|(_, d)| *d);
        Ok(Some(out))
    }
}
