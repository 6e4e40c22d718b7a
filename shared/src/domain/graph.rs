//! The referral graph: uplines, cycles, and what a link or a move changes.
//!
//! Every member stores its upline (nearest first, cut at 10) and the root of its tree. A member
//! that has never had a referee (`kids` false) cannot be anyone's ancestor, so linking it can
//! close no cycle; a member with referees moves with its whole subtree.

use super::{Level, UserId};

/// What the store knows of a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberView {
    pub user: UserId,
    pub referrer: Option<UserId>,
    pub upline: Vec<UserId>,
    pub root: UserId,
    /// Whether it has ever had a direct referee.
    pub kids: bool,
    /// Bumped at every rewrite of the upline or root: a write that relied on them checks it.
    pub gen: u64,
    /// The epoch of its tree's fence when its upline was last written.
    pub tree_epoch: u64,
    /// When it was connected to its referrer (or first seen), in ns since the epoch.
    pub connected_ns: u64,
    /// The move that last rewrote it.
    pub moved_by: Option<String>,
}

impl MemberView {
    /// A member the store has not seen: a root of its own, one-member tree.
    pub fn fresh(user: &UserId) -> MemberView {
        MemberView {
            user: user.clone(),
            referrer: None,
            upline: Vec::new(),
            root: user.clone(),
            kids: false,
            gen: 0,
            tree_epoch: 0,
            connected_ns: 0,
            moved_by: None,
        }
    }
}

/// A tree's fence as a link expects to find it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FenceState {
    Clear {
        epoch: u64,
    },
    /// Move `job` is rewriting uplines in the tree.
    Raised {
        job: String,
        epoch: u64,
    },
}

impl FenceState {
    pub fn epoch(&self) -> u64 {
        match self {
            FenceState::Clear { epoch } | FenceState::Raised { epoch, .. } => *epoch,
        }
    }
}

/// Why a link is refused by the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    SelfReferral,
    /// The user already has this very referrer: an exact replay.
    AlreadyThisReferrer,
    AlreadyConnected,
    Cycle,
}

/// Checks a link of `user` to `referrer` given what is stored of each (None: not a member),
/// when the user must have no referrer yet.
pub fn check_link(
    user: &UserId,
    referrer: &UserId,
    user_member: Option<&MemberView>,
    referrer_member: Option<&MemberView>,
) -> Result<(), LinkRefusal> {
    if user == referrer {
        return Err(LinkRefusal::SelfReferral);
    }
    if let Some(existing) = user_member.and_then(|m| m.referrer.as_ref()) {
        return Err(if existing == referrer {
            LinkRefusal::AlreadyThisReferrer
        } else {
            LinkRefusal::AlreadyConnected
        });
    }
    if closes_cycle(user, referrer_member) {
        return Err(LinkRefusal::Cycle);
    }
    Ok(())
}

/// Whether `user` is an ancestor of the referrer as far as the referrer's own item shows: its
/// root (the user is a root) or a stored ancestor. Deeper ancestry is walked by the store.
pub fn closes_cycle(user: &UserId, referrer_member: Option<&MemberView>) -> bool {
    referrer_member.is_some_and(|r| &r.root == user || r.upline.contains(user))
}

/// The upline a user gets under `referrer`: the referrer first, cut at 10.
pub fn upline_under(referrer: &UserId, referrer_upline: &[UserId]) -> Vec<UserId> {
    std::iter::once(referrer.clone())
        .chain(referrer_upline.iter().cloned())
        .take(Level::MAX.depth())
        .collect()
}

/// Whether `m` still sits `level` levels below `anchor`, as an edge read before it said: a
/// member that left since (a leaf changing referrer or removed) is no longer there.
pub fn still_under(m: &MemberView, anchor: &UserId, level: usize) -> bool {
    level >= 1 && m.upline.get(level - 1) == Some(anchor)
}

/// One downline edge: `member` sits `level` below `ancestor`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    pub ancestor: UserId,
    pub level: u8,
    pub member: UserId,
    pub connected_ns: u64,
}

/// The edges of `member` under each ancestor of `upline`, from level `from` on (1-based).
pub fn edges_of(member: &UserId, connected_ns: u64, upline: &[UserId], from: usize) -> Vec<Edge> {
    upline
        .iter()
        .enumerate()
        .skip(from.saturating_sub(1))
        .map(|(i, a)| Edge {
            ancestor: a.clone(),
            level: (i + 1) as u8,
            member: member.clone(),
            connected_ns,
        })
        .collect()
}

/// A member `depth` levels below a moving user keeps its own `depth` nearest ancestors (they
/// move along) and takes the moving user's new upline above them, cut at 10.
pub fn moved_upline(old: &[UserId], depth: usize, new_top: &[UserId]) -> Vec<UserId> {
    if depth >= Level::MAX.depth() {
        return old.to_vec();
    }
    old.iter()
        .take(depth)
        .chain(new_top.iter())
        .take(Level::MAX.depth())
        .cloned()
        .collect()
}

/// The edges a rewrite deletes and puts: only levels above `depth` change, unless the
/// member's connection time changes too (the moving user's new connection), which keys all.
pub fn edge_changes(
    member: &UserId,
    (old_ns, new_ns): (u64, u64),
    depth: usize,
    old_upline: &[UserId],
    new_upline: &[UserId],
) -> (Vec<Edge>, Vec<Edge>) {
    let old = edges_of(member, old_ns, old_upline, depth + 1);
    let new = edges_of(member, new_ns, new_upline, depth + 1);
    let gone = old.iter().filter(|e| !new.contains(e)).cloned().collect();
    let added = new.iter().filter(|e| !old.contains(e)).cloned().collect();
    (gone, added)
}

/// What the counts must hold of one member: the edges of its placement now, and the edges of
/// its past placements that it no longer has.
pub fn expected_edges(
    member: &UserId,
    now: (&[UserId], u64),
    past: &[(Vec<UserId>, u64)],
) -> (Vec<Edge>, Vec<Edge>) {
    let present = edges_of(member, now.1, now.0, 1);
    let mut gone: Vec<Edge> = Vec::new();
    for (upline, ns) in past {
        for e in edges_of(member, *ns, upline, 1) {
            if !present.contains(&e) && !gone.contains(&e) {
                gone.push(e);
            }
        }
    }
    (present, gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: usize) -> UserId {
        UserId::from_stored(format!("u{n}@example.com").as_str()).unwrap()
    }

    /// Members of a chain u0 <- u1 <- ... <- u(n-1): u(i)'s referrer is u(i-1).
    fn chain(n: usize) -> Vec<MemberView> {
        (0..n)
            .map(|i| MemberView {
                referrer: i.checked_sub(1).map(u),
                upline: (0..i).rev().take(Level::MAX.depth()).map(u).collect(),
                root: u(0),
                kids: i + 1 < n,
                connected_ns: i as u64,
                ..MemberView::fresh(&u(i))
            })
            .collect()
    }

    #[test]
    fn a_member_is_under_whom_its_edge_said_until_it_leaves() {
        let c = chain(5);
        // u4 sits one level below u3 and four below u0
        assert!(still_under(&c[4], &u(3), 1));
        assert!(still_under(&c[4], &u(0), 4));
        assert!(!still_under(&c[4], &u(0), 3));
        assert!(!still_under(&c[4], &u(0), 0));
        // u4 left for a referrer elsewhere: the edges read before no longer hold
        let left = MemberView {
            referrer: Some(u(9)),
            upline: vec![u(9)],
            root: u(9),
            ..c[4].clone()
        };
        assert!(!still_under(&left, &u(3), 1));
        assert!(!still_under(&left, &u(0), 4));
        // removed: no upline at all
        let alone = MemberView {
            referrer: None,
            upline: Vec::new(),
            root: u(4),
            ..c[4].clone()
        };
        assert!(!still_under(&alone, &u(3), 1));
    }

    #[test]
    fn self_referral_and_replays() {
        let c = chain(2);
        assert_eq!(
            check_link(&u(0), &u(0), None, None),
            Err(LinkRefusal::SelfReferral)
        );
        assert_eq!(
            check_link(&u(1), &u(0), Some(&c[1]), Some(&c[0])),
            Err(LinkRefusal::AlreadyThisReferrer)
        );
        assert_eq!(
            check_link(&u(1), &u(5), Some(&c[1]), None),
            Err(LinkRefusal::AlreadyConnected)
        );
        assert_eq!(check_link(&u(5), &u(1), None, Some(&c[1])), Ok(()));
    }

    #[test]
    fn cycles_through_the_root_at_any_depth() {
        let c = chain(14);
        // u13 is 13 levels below u0: beyond the stored upline, found through the root.
        assert!(!c[13].upline.contains(&u(0)));
        assert_eq!(
            check_link(&u(0), &u(13), Some(&c[0]), Some(&c[13])),
            Err(LinkRefusal::Cycle)
        );
        assert!(closes_cycle(&u(4), Some(&c[9])), "a stored ancestor");
        assert!(
            !closes_cycle(&u(9), Some(&c[4])),
            "a descendant is not an ancestor"
        );
    }

    #[test]
    fn upline_is_cut_at_ten() {
        let c = chain(13);
        let up = upline_under(&u(12), &c[12].upline);
        assert_eq!(up.len(), 10);
        assert_eq!(up[0], u(12));
        assert_eq!(up[9], u(3));
    }

    #[test]
    fn edges_follow_the_upline() {
        let up = vec![u(2), u(1), u(0)];
        let e = edges_of(&u(9), 7, &up, 1);
        assert_eq!(e.len(), 3);
        assert_eq!((e[2].ancestor.clone(), e[2].level), (u(0), 3));
        assert_eq!(edges_of(&u(9), 7, &up, 3).len(), 1);
        assert!(edges_of(&u(9), 7, &up, 4).is_empty());
    }

    #[test]
    fn a_move_keeps_the_subtree_and_swaps_the_top() {
        // x is 2 below the moving user m, whose old upline is [a, b] and new one [r, q, p]
        let old_x = vec![u(11), u(10), u(1), u(2)]; // x's parent, m, a, b
        let new_top = vec![u(20), u(21), u(22)];
        let new = moved_upline(&old_x, 2, &new_top);
        assert_eq!(new, vec![u(11), u(10), u(20), u(21), u(22)]);
        let (gone, added) = edge_changes(&u(99), (5, 5), 2, &old_x, &new);
        assert_eq!(
            gone.iter()
                .map(|e| (e.ancestor.clone(), e.level))
                .collect::<Vec<_>>(),
            vec![(u(1), 3), (u(2), 4)]
        );
        assert_eq!(
            added
                .iter()
                .map(|e| (e.ancestor.clone(), e.level))
                .collect::<Vec<_>>(),
            vec![(u(20), 3), (u(21), 4), (u(22), 5)]
        );
        // the moving user itself (depth 0) swaps its whole upline, and with a new connection
        // time every edge is keyed anew, even under an ancestor it keeps
        assert_eq!(moved_upline(&[u(1), u(2)], 0, &new_top), new_top);
        let (gone, added) = edge_changes(&u(99), (5, 6), 0, &[u(20)], &[u(20), u(21)]);
        assert_eq!((gone.len(), added.len()), (1, 2));
        // a removal: nothing above
        assert_eq!(moved_upline(&old_x, 2, &[]), vec![u(11), u(10)]);
        // ten or more levels down, the upline lies inside the subtree and stays
        let deep: Vec<UserId> = (0..10).map(u).collect();
        assert_eq!(moved_upline(&deep, 10, &new_top), deep);
        let (g, a) = edge_changes(&u(99), (5, 5), 10, &deep, &deep);
        assert!(g.is_empty() && a.is_empty());
    }

    #[test]
    fn cut_at_ten_after_a_move() {
        let old: Vec<UserId> = (1..=9).map(u).collect();
        let new_top: Vec<UserId> = (100..110).map(u).collect();
        let new = moved_upline(&old, 8, &new_top);
        assert_eq!(new.len(), 10);
        assert_eq!(new[8], u(100));
        assert_eq!(new[9], u(101));
        let (gone, added) = edge_changes(&u(50), (1, 1), 8, &old, &new);
        assert_eq!(gone.len(), 1, "u9 at level 9");
        assert_eq!(added.len(), 2, "u100 at 9, u101 at 10");
    }

    #[test]
    fn a_moved_member_keeps_the_edges_it_still_has() {
        let u = |s: &str| UserId::from_stored(s).unwrap();
        let (m, a, b, c) = (u("m@x.io"), u("a@x.io"), u("b@x.io"), u("c@x.io"));
        // m was under a (then b above); now under c, then b: b stays at level 2 only if the
        // connection time is the same
        let (present, gone) = expected_edges(
            &m,
            (&[c.clone(), b.clone()], 5),
            &[(vec![a.clone(), b.clone()], 5), (vec![a.clone()], 3)],
        );
        assert_eq!(present.len(), 2);
        let names = |v: &[Edge]| {
            v.iter()
                .map(|e| (e.ancestor.as_str().to_owned(), e.level, e.connected_ns))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&gone),
            [("a@x.io".to_owned(), 1, 5), ("a@x.io".to_owned(), 1, 3)]
        );
        // a root's removal: nothing present, all of the past gone
        let (present, gone) = expected_edges(&m, (&[], 9), &[(vec![a, b], 9)]);
        assert!(present.is_empty());
        assert_eq!(gone.len(), 2);
    }
}
