//! The referral graph: uplines, cycles and what a new link changes.
//!
//! Every member stores its upline (nearest first, cut at 10) and the root of its tree.
//! Only a root can gain a referrer, so a chain changes only when its root does.

use std::collections::BTreeMap;

use super::{UserId, MAX_LEVELS};

const MAX: usize = MAX_LEVELS as usize;

/// What the store knows of a member before a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberView {
    pub user: UserId,
    pub referrer: Option<UserId>,
    pub upline: Vec<UserId>,
    pub root: UserId,
    /// Direct referees: lets a link detect that the subtree changed under it.
    pub children: u64,
    /// When the member was connected to its referrer (or first seen), in ns since the epoch.
    pub connected_ns: u128,
}

/// Why a link is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    SelfReferral,
    /// The user already has this very referrer: an exact replay.
    AlreadyThisReferrer,
    AlreadyConnected,
    Cycle,
}

/// Checks a link of `user` to `referrer`, given what is stored of each (None: not a member).
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
    if let Some(r) = referrer_member {
        // user is a root here, so it is an ancestor of the referrer exactly when it is the
        // referrer's root; the upline test also covers a root that is mid-change.
        if &r.root == user || r.upline.contains(user) {
            return Err(LinkRefusal::Cycle);
        }
    }
    Ok(())
}

/// The upline a user gets under `referrer`: the referrer first, cut at 10.
pub fn upline_under(referrer: &UserId, referrer_upline: &[UserId]) -> Vec<UserId> {
    std::iter::once(referrer.clone())
        .chain(referrer_upline.iter().cloned())
        .take(MAX)
        .collect()
}

/// A descendant of the linking user, with its depth below that user (1 = direct referee).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descendant {
    pub member: MemberView,
    pub depth: usize,
}

/// One downline edge: `member` sits `level` below `ancestor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub ancestor: UserId,
    pub level: u8,
    pub member: UserId,
    pub connected_ns: u128,
}

/// Everything a link writes besides its fixed items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkPlan {
    pub upline: Vec<UserId>,
    pub root: UserId,
    pub edges: Vec<Edge>,
    /// Per ancestor, per level: how many members it gains at that level.
    pub count_adds: BTreeMap<UserId, BTreeMap<u8, u64>>,
    /// Descendants whose upline or root change: (user, new upline).
    pub rewrites: Vec<(UserId, Vec<UserId>)>,
}

/// Plans the link of `user` (a root, with `subtree` below it) under `referrer`.
pub fn plan_link(
    user: &UserId,
    referrer: &UserId,
    referrer_member: Option<&MemberView>,
    user_connected_ns: u128,
    subtree: &[Descendant],
) -> LinkPlan {
    let (r_upline, root) = match referrer_member {
        Some(m) => (m.upline.as_slice(), m.root.clone()),
        None => (&[][..], referrer.clone()),
    };
    let upline = upline_under(referrer, r_upline);
    let mut edges = Vec::new();
    let mut count_adds: BTreeMap<UserId, BTreeMap<u8, u64>> = BTreeMap::new();
    let mut add = |edges: &mut Vec<Edge>, ancestor: &UserId, level: usize, member: &UserId, ns| {
        edges.push(Edge {
            ancestor: ancestor.clone(),
            level: level as u8,
            member: member.clone(),
            connected_ns: ns,
        });
        *count_adds
            .entry(ancestor.clone())
            .or_default()
            .entry(level as u8)
            .or_default() += 1;
    };
    for (i, a) in upline.iter().enumerate() {
        add(&mut edges, a, i + 1, user, user_connected_ns);
    }
    let mut rewrites = Vec::with_capacity(subtree.len());
    for d in subtree {
        let depth = d.depth;
        let new_upline = if depth < MAX {
            for (j, a) in upline.iter().take(MAX - depth).enumerate() {
                add(
                    &mut edges,
                    a,
                    depth + 1 + j,
                    &d.member.user,
                    d.member.connected_ns,
                );
            }
            d.member
                .upline
                .iter()
                .take(depth)
                .chain(upline.iter())
                .take(MAX)
                .cloned()
                .collect()
        } else {
            d.member.upline.clone()
        };
        rewrites.push((d.member.user.clone(), new_upline));
    }
    LinkPlan {
        upline,
        root,
        edges,
        count_adds,
        rewrites,
    }
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
                user: u(i),
                referrer: i.checked_sub(1).map(u),
                upline: (0..i).rev().take(MAX).map(u).collect(),
                root: u(0),
                children: u64::from(i + 1 < n),
                connected_ns: i as u128,
            })
            .collect()
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
    fn cycles_at_any_depth() {
        let c = chain(14);
        // u13 is 13 levels below u0: beyond the stored upline, found through the root.
        assert!(!c[13].upline.contains(&u(0)));
        assert_eq!(
            check_link(&u(0), &u(13), Some(&c[0]), Some(&c[13])),
            Err(LinkRefusal::Cycle)
        );
        assert_eq!(
            check_link(&u(0), &u(1), Some(&c[0]), Some(&c[1])),
            Err(LinkRefusal::Cycle)
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
    fn plain_link_edges_and_counts() {
        let c = chain(3);
        let p = plan_link(&u(9), &u(2), Some(&c[2]), 99, &[]);
        assert_eq!(p.upline, vec![u(2), u(1), u(0)]);
        assert_eq!(p.root, u(0));
        assert_eq!(p.edges.len(), 3);
        assert_eq!(p.edges[2].ancestor, u(0));
        assert_eq!(p.edges[2].level, 3);
        assert_eq!(p.count_adds[&u(1)][&2], 1);
        assert!(p.rewrites.is_empty());
    }

    #[test]
    fn new_referrer_is_its_own_root() {
        let p = plan_link(&u(1), &u(0), None, 1, &[]);
        assert_eq!(p.root, u(0));
        assert_eq!(p.upline, vec![u(0)]);
    }

    #[test]
    fn backfill_rewrites_descendants() {
        // existing tree: a(100) <- b(101) <- c(102); a gains referrer r(200) under q(201)
        let q = MemberView {
            user: u(201),
            referrer: None,
            upline: vec![],
            root: u(201),
            children: 1,
            connected_ns: 0,
        };
        let r = MemberView {
            user: u(200),
            referrer: Some(u(201)),
            upline: vec![u(201)],
            root: u(201),
            children: 0,
            connected_ns: 1,
        };
        let b = MemberView {
            user: u(101),
            referrer: Some(u(100)),
            upline: vec![u(100)],
            root: u(100),
            children: 1,
            connected_ns: 5,
        };
        let c = MemberView {
            user: u(102),
            referrer: Some(u(101)),
            upline: vec![u(101), u(100)],
            root: u(100),
            children: 0,
            connected_ns: 6,
        };
        let sub = vec![
            Descendant {
                member: b,
                depth: 1,
            },
            Descendant {
                member: c,
                depth: 2,
            },
        ];
        let p = plan_link(&u(100), &u(200), Some(&r), 7, &sub);
        assert_eq!(p.root, u(201));
        assert_eq!(p.upline, vec![u(200), u(201)]);
        assert_eq!(p.rewrites[0], (u(101), vec![u(100), u(200), u(201)]));
        assert_eq!(
            p.rewrites[1],
            (u(102), vec![u(101), u(100), u(200), u(201)])
        );
        // r gains a at 1, b at 2, c at 3; q one level further each
        assert_eq!(
            p.count_adds[&u(200)],
            BTreeMap::from([(1, 1), (2, 1), (3, 1)])
        );
        assert_eq!(
            p.count_adds[&u(201)],
            BTreeMap::from([(2, 1), (3, 1), (4, 1)])
        );
        assert_eq!(p.edges.len(), 6);
        let _ = q;
    }

    #[test]
    fn backfill_cuts_deep_descendants_at_ten() {
        // user u0 roots a chain of 12; it gains referrer x with a 10-long upline of its own.
        let c = chain(12);
        let sub: Vec<Descendant> = c[1..]
            .iter()
            .enumerate()
            .map(|(i, m)| Descendant {
                member: m.clone(),
                depth: i + 1,
            })
            .collect();
        let x_up: Vec<UserId> = (0..10).map(|i| u(500 + i)).collect();
        let x = MemberView {
            user: u(400),
            referrer: Some(u(500)),
            upline: x_up.clone(),
            root: u(999),
            children: 0,
            connected_ns: 0,
        };
        let p = plan_link(&u(0), &u(400), Some(&x), 0, &sub);
        assert_eq!(p.upline.len(), 10);
        assert_eq!(p.root, u(999));
        for (user, up) in &p.rewrites {
            assert!(up.len() <= 10, "{user}");
        }
        // depth 9 keeps its 9 own ancestors and gains only x
        let d9 = &p.rewrites[8];
        assert_eq!(d9.0, u(9));
        assert_eq!(d9.1.last(), Some(&u(400)));
        // depth 10 and 11 keep their upline
        assert_eq!(p.rewrites[9].1, c[10].upline);
        assert_eq!(p.rewrites[10].1, c[11].upline);
        // every edge is within 10 levels
        assert!(p.edges.iter().all(|e| (1..=10).contains(&e.level)));
        // total gained edges: u0 gets 10, depth d gets 10-d
        assert_eq!(p.edges.len(), 10 + (1..10).map(|d| 10 - d).sum::<usize>());
    }
}
