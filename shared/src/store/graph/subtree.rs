//! Loading a member's subtree, at any depth, through its edges: the edges under a member
//! reach ten levels down; below that, the edges under the members ten levels down.

use super::super::{Store, StoreError};
use super::downline::{EdgeRow, Levels};
use super::Member;
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{Level, NetworkId, ProgramId, UserId, MAX_LEVELS};

impl Store {
    /// Every edge under `ancestor`, all levels, all shards.
    pub async fn all_edges(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
    ) -> Result<Vec<EdgeRow>, StoreError> {
        let all = Levels::UpTo(Level::MAX);
        let reads = (0..EDGE_SHARDS).map(|s| async move {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let (rows, last) = self
                    .edge_page(net, prog, (ancestor, s), all, (after, None))
                    .await?;
                out.extend(rows);
                match last {
                    Some(sk) => after = Some(sk),
                    None => return Ok::<_, StoreError>(out),
                }
            }
        });
        let mut rows: Vec<EdgeRow> = futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .collect();
        rows.sort_by(|a, b| a.sk.cmp(&b.sk));
        Ok(rows)
    }

    /// How many members lie within ten levels below `ancestor`: its edges, counted.
    pub async fn count_edges(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
    ) -> Result<u64, StoreError> {
        let counts = crate::store::keys::downline_partitions(net, prog, ancestor)
            .into_iter()
            .map(|pk| async move { self.count_partition(&pk).await });
        Ok(futures::future::try_join_all(counts)
            .await?
            .into_iter()
            .sum())
    }

    /// Every member below `user` at any depth, with its depth (1 = direct referee), top
    /// down; None when there are more than `budget`.
    pub async fn load_subtree(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        budget: usize,
    ) -> Result<Option<Vec<(Member, usize)>>, StoreError> {
        let mut out: Vec<(Member, usize)> = Vec::new();
        let mut frontier = vec![(user.clone(), 0usize)];
        while let Some((top, base)) = frontier.pop() {
            let rows = self.all_edges(net, prog, &top).await?;
            if out.len() + rows.len() > budget {
                return Ok(None);
            }
            let users: Vec<UserId> = rows.iter().map(|r| r.user.clone()).collect();
            let members = self.members(net, prog, &users).await?;
            for (row, m) in rows.iter().zip(members) {
                if !m.exists() {
                    return Err(StoreError::Corrupt("edge without membership".into()));
                }
                if row.level == MAX_LEVELS && m.view.kids {
                    frontier.push((m.view.user.clone(), base + MAX_LEVELS as usize));
                }
                out.push((m, base + row.level as usize));
            }
        }
        out.sort_by_key(|(_, d)| *d);
        Ok(Some(out))
    }
}
