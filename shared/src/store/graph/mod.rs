//! The referral graph: memberships (a member's upline and root), downline edges, tree fences,
//! and the writes that change them.

pub mod downline;
pub mod fence;
pub mod link;
pub mod move_job;
pub mod move_pages;
pub mod move_request;
pub mod move_steps;
pub mod moves;
pub mod remove;
pub mod snapshot;
pub mod subtree;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use super::{items, keys, n, Expr, Item, Key, Store, StoreError};
use crate::clock;
use crate::domain::graph::{Edge, MemberView};
use crate::domain::{NetworkId, ProgramId, UserId};

/// A user's place in one program's graph.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MembershipItem {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default)]
    pub upline: Vec<String>,
    pub root: String,
    #[serde(default)]
    pub kids: bool,
    /// Bumped by every write: a write that relied on this item checks it.
    #[serde(default)]
    pub gen: u64,
    #[serde(default)]
    pub tree_epoch: u64,
    #[serde(default)]
    pub connected_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// The code the connection was made through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_by: Option<String>,
    /// Where the member stood before, newest last, for `PAST_KEEP_MS`: the repair checks that
    /// the counts no longer hold those edges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub past: Vec<Placement>,
    /// GSI2: when the placement last changed (`keys::changed_member`).
    #[serde(default, rename = "GSI2PK", skip_serializing_if = "Option::is_none")]
    pub changes_pk: Option<String>,
    #[serde(default, rename = "GSI2SK", skip_serializing_if = "Option::is_none")]
    pub changes_sk: Option<String>,
}

/// A member's upline and connection time until `until_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub upline: Vec<String>,
    pub ns: u64,
    pub until_ms: u64,
}

/// How long a past placement is kept: longer than the stream keeps records and than the
/// repair's look-back.
pub const PAST_KEEP_MS: u64 = 3 * 24 * 3_600_000;
/// At most this many past placements; a member moved more often within `PAST_KEEP_MS` is
/// left to `repair --full`.
pub const PAST_MAX: usize = 8;

impl MembershipItem {
    pub fn view(&self) -> Result<MemberView, StoreError> {
        Ok(MemberView {
            user: items::user_id(&self.user)?,
            referrer: self.referrer.as_deref().map(items::user_id).transpose()?,
            upline: self
                .upline
                .iter()
                .map(|u| items::user_id(u))
                .collect::<Result<_, _>>()?,
            root: items::user_id(&self.root)?,
            kids: self.kids,
            gen: self.gen,
            tree_epoch: self.tree_epoch,
            connected_ns: self.connected_ns,
            moved_by: self.moved_by.clone(),
        })
    }

    /// The item of a view, keeping what only the item holds.
    pub fn with_view(&self, v: &MemberView) -> MembershipItem {
        MembershipItem {
            user: v.user.as_str().to_owned(),
            referrer: v.referrer.as_ref().map(|r| r.as_str().to_owned()),
            upline: v.upline.iter().map(|u| u.as_str().to_owned()).collect(),
            root: v.root.as_str().to_owned(),
            kids: v.kids,
            gen: v.gen,
            tree_epoch: v.tree_epoch,
            connected_ns: v.connected_ns,
            moved_by: v.moved_by.clone(),
            ..self.clone()
        }
    }
}

/// The condition that a membership is as it was read: absent, or at generation `gen`.
pub fn unchanged(e: &mut Expr, seen: Option<u64>) -> String {
    match seen {
        None => format!("attribute_not_exists({})", e.n(keys::PK)),
        Some(0) => {
            let g = e.n("gen");
            format!(
                "attribute_exists({}) AND (attribute_not_exists({g}) OR {g} = {})",
                e.n(keys::PK),
                e.v(n(0))
            )
        }
        Some(g) => format!("{} = {}", e.n("gen"), e.v(n(g))),
    }
}

/// A membership read for a write, with the generation its condition checks.
pub struct Member {
    pub item: MembershipItem,
    pub view: MemberView,
    /// None when the item did not exist.
    pub seen: Option<u64>,
}

impl Member {
    pub fn read(user: &UserId, item: Option<Item>) -> Result<Member, StoreError> {
        match item {
            Some(i) => {
                let item: MembershipItem = items::from_item(i)?;
                let view = item.view()?;
                Ok(Member {
                    seen: Some(item.gen),
                    item,
                    view,
                })
            }
            None => Ok(Member {
                item: MembershipItem {
                    user: user.as_str().to_owned(),
                    root: user.as_str().to_owned(),
                    ..MembershipItem::default()
                },
                view: MemberView::fresh(user),
                seen: None,
            }),
        }
    }

    pub fn exists(&self) -> bool {
        self.seen.is_some()
    }
}

impl Store {
    /// Writes `view` over a membership read as `seen`, one generation on.
    pub(crate) fn member_put(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        base: &MembershipItem,
        view: &MemberView,
        seen: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut next = base.with_view(view);
        next.gen = seen.map_or(1, |g| g + 1);
        if seen.is_none() || base.upline != next.upline || base.connected_ns != next.connected_ns {
            let now = clock::now_ms();
            if seen.is_some() && !base.upline.is_empty() {
                next.past.push(Placement {
                    upline: base.upline.clone(),
                    ns: base.connected_ns,
                    until_ms: now,
                });
            }
            next.past.retain(|p| p.until_ms + PAST_KEEP_MS > now);
            let extra = next.past.len().saturating_sub(PAST_MAX);
            next.past.drain(..extra);
            let (pk, sk) = keys::changed_member(net, prog, &view.user, now);
            (next.changes_pk, next.changes_sk) = (Some(pk), Some(sk));
        }
        let key = keys::membership(net, prog, &view.user);
        let mut e = Expr::new();
        let cond = unchanged(&mut e, seen);
        self.tx_put(
            items::with_key(items::to_item(&next)?, &key),
            Some(&cond),
            &e,
            false,
        )
    }

    /// A put of one downline edge.
    pub(crate) fn edge_put(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        edge: &Edge,
    ) -> Result<TransactWriteItem, StoreError> {
        let key = edge_key(net, prog, edge);
        let item: Item = HashMap::from([
            ("user".to_owned(), super::s(edge.member.as_str())),
            ("level".to_owned(), n(edge.level)),
            (
                "connected_at".to_owned(),
                super::s(clock::rfc3339(edge.connected_ns)),
            ),
        ]);
        self.tx_put(items::with_key(item, &key), None, &Expr::new(), false)
    }

    pub(crate) fn edge_delete(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        edge: &Edge,
    ) -> Result<TransactWriteItem, StoreError> {
        self.tx_delete(&edge_key(net, prog, edge), None, &Expr::new())
    }

    /// Memberships of `users`, strongly consistent.
    pub async fn members(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        users: &[UserId],
    ) -> Result<Vec<Member>, StoreError> {
        let wanted: Vec<Key> = users
            .iter()
            .map(|u| keys::membership(net, prog, u))
            .collect();
        let mut got = self.batch_get(&wanted).await?;
        users
            .iter()
            .zip(&wanted)
            .map(|(u, k)| Member::read(u, got.remove(k)))
            .collect()
    }
}

pub fn edge_key(net: &NetworkId, prog: &ProgramId, edge: &Edge) -> Key {
    keys::downline_edge(
        net,
        prog,
        &edge.ancestor,
        edge.level,
        edge.connected_ns,
        &edge.member,
    )
}
