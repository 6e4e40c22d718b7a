//! Reading a member's downline: its edges sit in `EDGE_SHARDS` partitions, so a page queries
//! each (side by side: one round trip) and merges them in (level, connection time) order.

use crate::clock;
use crate::domain::{Level, NetworkId, ProgramId, UserId};
use crate::store::table::SortKey;
use crate::store::{items, keys, Store, StoreError};

/// Which levels of a downline a read covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Levels {
    Exactly(Level),
    UpTo(Level),
}

impl Levels {
    fn sort_key(self) -> SortKey {
        match self {
            Levels::Exactly(l) => SortKey::Prefix(keys::level_prefix(l.get())),
            Levels::UpTo(l) if l.get() < Level::MAX.get() => {
                SortKey::Below(keys::level_prefix(l.get() + 1))
            }
            Levels::UpTo(_) => SortKey::All,
        }
    }

    pub fn contains(self, level: u8) -> bool {
        match self {
            Levels::Exactly(l) => level == l.get(),
            Levels::UpTo(l) => (1..=l.get()).contains(&level),
        }
    }
}

/// One row of a member's downline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeRow {
    pub user: UserId,
    pub level: u8,
    pub connected_ns: u64,
    pub sk: String,
}

impl EdgeRow {
    pub fn connected_at(&self) -> String {
        clock::rfc3339(self.connected_ns)
    }
}

pub use crate::store::table::ShardCursor;

pub struct DownlinePage {
    pub edges: Vec<EdgeRow>,
    /// Where to resume, when there is more.
    pub next: Option<ShardCursor>,
}

pub fn edge_row(item: &crate::store::Item) -> Result<EdgeRow, StoreError> {
    let (_, sk) = crate::store::table::item_key(item)?;
    let Some((level, ns, user)) = keys::parse_edge_sk(&sk) else {
        return Err(StoreError::Corrupt("edge sort key".into()));
    };
    Ok(EdgeRow {
        user: items::user_id(user)?,
        level,
        connected_ns: ns,
        sk: sk.clone(),
    })
}

impl Store {
    /// One page of edges of one shard of an ancestor's downline.
    pub(crate) async fn edge_page(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        (ancestor, shard): (&UserId, usize),
        levels: Levels,
        (after, limit): (Option<String>, Option<i32>),
    ) -> Result<(Vec<EdgeRow>, Option<String>), StoreError> {
        let pk = keys::downline_partition(net, prog, ancestor, shard);
        let page = self
            .query_page(&pk, &levels.sort_key(), after, limit)
            .await?;
        let rows = page.items.iter().map(edge_row).collect::<Result<_, _>>()?;
        Ok((rows, page.last_sk))
    }

    /// A page of `ancestor`'s downline, by level then connection time.
    pub async fn downline_page(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
        levels: Levels,
        limit: usize,
        cursor: Option<ShardCursor>,
    ) -> Result<DownlinePage, StoreError> {
        let parts = keys::downline_partitions(net, prog, ancestor);
        let page = self
            .merged_page(&parts, &levels.sort_key(), limit, cursor)
            .await?;
        Ok(DownlinePage {
            edges: page
                .rows
                .iter()
                .map(|(_, item)| edge_row(item))
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }
}

pub struct MemberHead {
    pub auth: Result<(), crate::store::api_keys::AuthFailure>,
    pub program: Option<crate::domain::Program>,
    pub member: Option<super::MembershipItem>,
    pub counts: crate::store::counts::Counts,
}

impl Store {
    /// Key, program, membership and the member's counts in one round trip.
    pub async fn member_head(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        probe: &crate::store::api_keys::KeyProbe,
    ) -> Result<MemberHead, StoreError> {
        let k_program = keys::program(net, prog);
        let k_mem = keys::membership(net, prog, user);
        let k_counts = crate::store::counts::count_keys(net, prog, user);
        let mut wanted = vec![probe.key.clone(), k_program.clone(), k_mem.clone()];
        wanted.extend(k_counts.iter().cloned());
        let mut got = self.batch_get(&wanted).await?;
        Ok(MemberHead {
            auth: crate::store::api_keys::check_key(got.get(&probe.key), net),
            program: got.remove(&k_program).map(items::program).transpose()?,
            member: got.remove(&k_mem).map(items::from_item).transpose()?,
            counts: crate::store::counts::counts_from(&mut got, &k_counts)?,
        })
    }
}
