//! The rules of a connection, in the order their refusals take precedence. Pure: the store
//! reads the facts, these rules decide, and the store's transaction conditions keep the facts
//! true until the write.

use super::code::CodeStatus;
use super::graph::{edges_of, upline_under, Edge, FenceState, MemberView};
use super::{Code, Level, Program, ProgramId, UserId};

/// What the caller asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// Add Connection, a User Status referrer, a DeSo credit: the user must have no referrer,
    /// or exactly this one (a replay).
    Add,
    /// Change Referrer: the user may have another referrer; its subtree moves along.
    Change,
}

/// Why a connection is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    ProgramNotFound,
    ProgramInactive,
    SelfReferral,
    AlreadyConnected,
    Cycle,
    UserBanned,
    CodeNotFound,
    /// Why: inactive, expired or full.
    CodeUnavailable(super::code::CodeStatus),
    NotConnected,
    SubtreeBusy,
}

/// Everything the rules look at, as one strongly consistent read saw it.
pub struct LinkFacts<'a> {
    pub program: Option<&'a Program>,
    /// The code the link goes through, when it goes through one.
    pub code: Option<Option<&'a Code>>,
    pub user: Option<&'a MemberView>,
    pub referrer: Option<&'a MemberView>,
    pub user_banned: bool,
    pub referrer_banned: bool,
    /// The request's time, which a code's expiry is compared with.
    pub now_ms: u64,
}

/// What the rules allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The user has no referees: one transaction of its own items, whatever the depth.
    Plain,
    /// The user has referees: its subtree moves along.
    Move,
    /// The user already has this referrer: nothing to write.
    Replay,
    Refused(Refusal),
}

pub fn judge(
    mode: LinkMode,
    program_id: &ProgramId,
    user: &UserId,
    referrer: &UserId,
    f: &LinkFacts<'_>,
) -> Verdict {
    let Some(program) = f.program else {
        return Verdict::Refused(Refusal::ProgramNotFound);
    };
    if let Some(code) = f.code {
        if code.is_none_or(|c| &c.program != program_id) {
            return Verdict::Refused(Refusal::CodeNotFound);
        }
    }
    if user == referrer {
        return Verdict::Refused(Refusal::SelfReferral);
    }
    match f.user.and_then(|m| m.referrer.as_ref()) {
        Some(r) if r == referrer => return Verdict::Replay,
        Some(_) if mode == LinkMode::Add => return Verdict::Refused(Refusal::AlreadyConnected),
        _ => {}
    }
    if f.user_banned || f.referrer_banned {
        return Verdict::Refused(Refusal::UserBanned);
    }
    if !program.active {
        return Verdict::Refused(Refusal::ProgramInactive);
    }
    if let Some(c) = f.code.flatten() {
        // fullness is the shards' to tell, in the transaction
        let status = CodeStatus::of(c.active, c.expires_ms, false, f.now_ms);
        if status != CodeStatus::Active {
            return Verdict::Refused(Refusal::CodeUnavailable(status));
        }
    }
    if super::graph::closes_cycle(user, f.referrer) {
        return Verdict::Refused(Refusal::Cycle);
    }
    // A user without referees moves alone: its own items say all, whatever it had before.
    if f.user.is_some_and(|m| m.kids) {
        Verdict::Move
    } else {
        Verdict::Plain
    }
}

/// What a plain link (a user without referees) writes, decided from what one read saw. The
/// store turns it into the items of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainPlan {
    /// The user's membership after the link.
    pub user: MemberView,
    /// The edges of the user's previous referrer chain, which go (a change of referrer).
    pub gone: Vec<Edge>,
    /// The user's new edges, one per ancestor.
    pub added: Vec<Edge>,
    /// The user gains its first referrer here: its profile counts one more link.
    pub first_referrer: bool,
    /// The referrer's membership, when it joins the transaction: new to the program, getting
    /// its first referee, or its upline written under another epoch than the fence shows.
    pub referrer: Option<MemberView>,
    /// The referrer gets its first referee: its profile counts one more link.
    pub first_referee: bool,
    /// The fence of the referrer's tree as the link checks it: (root, state). None when the
    /// referrer is new to the program, so its tree is itself.
    pub fence: Option<(UserId, FenceState)>,
    /// A move is rewriting the referrer's tree and has not rewritten the referrer: the job
    /// sets this user again before its fence comes down.
    pub pending_for: Option<String>,
    /// The upline as the answer shows it: cut at the program's `max_levels`.
    pub upline_shown: Vec<UserId>,
}

/// What a plain link is planned from.
pub struct PlainFacts<'a> {
    pub user: &'a MemberView,
    pub referrer: &'a MemberView,
    pub referrer_exists: bool,
    /// The fence of a tree, as the previous attempt's cancellation showed it.
    pub fence_seen: Option<&'a (UserId, FenceState)>,
    pub max_levels: Level,
    pub now_ns: u64,
}

pub fn plan_plain(referrer_id: &UserId, f: &PlainFacts<'_>) -> PlainPlan {
    let (old, r) = (f.user, f.referrer);
    let upline = upline_under(referrer_id, &r.upline);
    // The fence the referrer's upline was written under, unless an attempt saw it since.
    let fence = match f.fence_seen {
        Some((root, state)) if root == &r.root => state.clone(),
        _ => FenceState::Clear {
            epoch: r.tree_epoch,
        },
    };
    let raised_by = match &fence {
        FenceState::Raised { job, .. } => Some(job.as_str()),
        FenceState::Clear { .. } => None,
    };
    let referrer_rewritten = raised_by.is_some() && r.moved_by.as_deref() == raised_by;
    let user = MemberView {
        referrer: Some(referrer_id.clone()),
        upline: upline.clone(),
        root: r.root.clone(),
        tree_epoch: fence.epoch(),
        connected_ns: f.now_ns,
        // Joined under a member the move already rewrote: it is right as it is.
        moved_by: raised_by.filter(|_| referrer_rewritten).map(str::to_owned),
        ..old.clone()
    };
    let gone = match old.referrer {
        Some(_) => edges_of(&old.user, old.connected_ns, &old.upline, 1),
        None => Vec::new(),
    };
    let current = fence
        == FenceState::Clear {
            epoch: r.tree_epoch,
        };
    let first_referee = !f.referrer_exists || !r.kids;
    let referrer = (first_referee || !current).then(|| MemberView {
        kids: true,
        tree_epoch: if f.referrer_exists { fence.epoch() } else { 0 },
        connected_ns: if f.referrer_exists {
            r.connected_ns
        } else {
            f.now_ns
        },
        ..r.clone()
    });
    let pending_for = raised_by
        .filter(|_| f.referrer_exists && !referrer_rewritten)
        .map(str::to_owned);
    PlainPlan {
        added: edges_of(&old.user, f.now_ns, &upline, 1),
        upline_shown: upline.iter().take(f.max_levels.depth()).cloned().collect(),
        user,
        gone,
        first_referrer: old.referrer.is_none(),
        referrer,
        first_referee,
        fence: f.referrer_exists.then(|| (r.root.clone(), fence)),
        pending_for,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::program::ProgramPatch;

    fn u(s: &str) -> UserId {
        UserId::from_stored(s).unwrap()
    }

    fn program(active: bool) -> Program {
        let id = ProgramId::try_from("p").unwrap();
        let mut p = ProgramPatch::default().apply(&id, None, "t");
        p.active = active;
        p
    }

    fn member(user: &str, referrer: Option<&str>, root: &str, kids: bool) -> MemberView {
        MemberView {
            referrer: referrer.map(u),
            upline: referrer.map(u).into_iter().collect(),
            root: u(root),
            kids,
            ..MemberView::fresh(&u(user))
        }
    }

    fn facts<'a>(p: Option<&'a Program>) -> LinkFacts<'a> {
        LinkFacts {
            program: p,
            code: None,
            user: None,
            referrer: None,
            user_banned: false,
            referrer_banned: false,
            now_ms: 1_000,
        }
    }

    fn j(mode: LinkMode, f: &LinkFacts<'_>) -> Verdict {
        let prog = ProgramId::try_from("p").unwrap();
        judge(mode, &prog, &u("b@x.io"), &u("a@x.io"), f)
    }

    #[test]
    fn a_new_user_is_a_plain_link() {
        let p = program(true);
        assert_eq!(j(LinkMode::Add, &facts(Some(&p))), Verdict::Plain);
        let leaf = member("b@x.io", None, "b@x.io", false);
        let f = LinkFacts {
            user: Some(&leaf),
            ..facts(Some(&p))
        };
        assert_eq!(j(LinkMode::Add, &f), Verdict::Plain);
    }

    #[test]
    fn referees_make_it_a_move() {
        let p = program(true);
        let root = member("b@x.io", None, "b@x.io", true);
        let f = LinkFacts {
            user: Some(&root),
            ..facts(Some(&p))
        };
        assert_eq!(j(LinkMode::Add, &f), Verdict::Move);
        let other = member("b@x.io", Some("z@x.io"), "z@x.io", false);
        let f = LinkFacts {
            user: Some(&other),
            ..facts(Some(&p))
        };
        assert_eq!(
            j(LinkMode::Add, &f),
            Verdict::Refused(Refusal::AlreadyConnected)
        );
        assert_eq!(
            j(LinkMode::Change, &f),
            Verdict::Plain,
            "a leaf moves alone"
        );
        let mid = member("b@x.io", Some("z@x.io"), "z@x.io", true);
        let f = LinkFacts {
            user: Some(&mid),
            ..facts(Some(&p))
        };
        assert_eq!(j(LinkMode::Change, &f), Verdict::Move);
    }

    #[test]
    fn refusals_in_order() {
        let p = program(true);
        let off = program(false);
        assert_eq!(
            j(LinkMode::Add, &facts(None)),
            Verdict::Refused(Refusal::ProgramNotFound)
        );
        let prog = ProgramId::try_from("p").unwrap();
        assert_eq!(
            judge(
                LinkMode::Add,
                &prog,
                &u("a@x.io"),
                &u("a@x.io"),
                &facts(Some(&p))
            ),
            Verdict::Refused(Refusal::SelfReferral)
        );
        let same = member("b@x.io", Some("a@x.io"), "a@x.io", false);
        let f = LinkFacts {
            user: Some(&same),
            ..facts(Some(&p))
        };
        assert_eq!(j(LinkMode::Add, &f), Verdict::Replay);
        assert_eq!(j(LinkMode::Change, &f), Verdict::Replay);
        let f = LinkFacts {
            referrer_banned: true,
            ..facts(Some(&off))
        };
        assert_eq!(j(LinkMode::Add, &f), Verdict::Refused(Refusal::UserBanned));
        assert_eq!(
            j(LinkMode::Add, &facts(Some(&off))),
            Verdict::Refused(Refusal::ProgramInactive)
        );
        // the referrer is below the user: a cycle
        let below = member("a@x.io", Some("c@x.io"), "b@x.io", false);
        let f = LinkFacts {
            referrer: Some(&below),
            ..facts(Some(&p))
        };
        assert_eq!(j(LinkMode::Add, &f), Verdict::Refused(Refusal::Cycle));
        let f = LinkFacts {
            code: Some(None),
            ..facts(Some(&p))
        };
        assert_eq!(
            j(LinkMode::Add, &f),
            Verdict::Refused(Refusal::CodeNotFound)
        );
    }

    fn chain(n: usize) -> Vec<MemberView> {
        (0..n)
            .map(|i| {
                let id = format!("c{i}@x.io");
                MemberView {
                    referrer: i.checked_sub(1).map(|p| u(&format!("c{p}@x.io"))),
                    upline: (0..i)
                        .rev()
                        .map(|k| u(&format!("c{k}@x.io")))
                        .take(10)
                        .collect(),
                    root: u("c0@x.io"),
                    kids: true,
                    tree_epoch: 4,
                    connected_ns: i as u64,
                    ..MemberView::fresh(&u(&id))
                }
            })
            .collect()
    }

    fn plain<'a>(
        user: &'a MemberView,
        referrer: &'a MemberView,
        exists: bool,
        max: u8,
    ) -> PlainFacts<'a> {
        PlainFacts {
            user,
            referrer,
            referrer_exists: exists,
            fence_seen: None,
            max_levels: Level::new(max).unwrap(),
            now_ns: 1000,
        }
    }

    #[test]
    fn a_first_link_makes_two_members_and_one_edge() {
        let (b, a) = (
            MemberView::fresh(&u("b@x.io")),
            MemberView::fresh(&u("a@x.io")),
        );
        let p = plan_plain(&u("a@x.io"), &plain(&b, &a, false, 10));
        assert_eq!(p.user.referrer, Some(u("a@x.io")));
        assert_eq!(p.user.upline, [u("a@x.io")]);
        assert_eq!(p.user.root, u("a@x.io"));
        assert_eq!(p.added.len(), 1);
        assert!(p.gone.is_empty() && p.first_referrer && p.first_referee);
        let r = p.referrer.expect("a new referrer joins");
        assert!(r.kids);
        assert_eq!((r.tree_epoch, r.connected_ns), (0, 1000));
        assert_eq!(
            p.fence, None,
            "a new referrer's tree is itself: no fence to check"
        );
        assert_eq!(p.pending_for, None);
    }

    #[test]
    fn a_referrer_with_referees_stays_out_and_the_upline_is_cut_at_ten() {
        let c = chain(12);
        let new = MemberView::fresh(&u("n@x.io"));
        let p = plan_plain(&u("c11@x.io"), &plain(&new, &c[11], true, 3));
        assert_eq!(p.user.upline.len(), 10, "stored: ten levels");
        assert_eq!(p.user.upline[0], u("c11@x.io"));
        assert_eq!(p.user.upline[9], u("c2@x.io"));
        assert_eq!(p.upline_shown.len(), 3, "shown: the program's max_levels");
        assert_eq!(p.added.len(), 10);
        assert_eq!(p.added[9].level, 10);
        assert_eq!(
            p.referrer, None,
            "it has referees and its upline is current"
        );
        assert!(!p.first_referee);
        assert_eq!(
            p.fence,
            Some((u("c0@x.io"), FenceState::Clear { epoch: 4 })),
            "the check is on the tree's fence at the referrer's epoch"
        );
        assert_eq!(p.user.tree_epoch, 4);
    }

    #[test]
    fn a_referrers_first_referee_marks_it() {
        let mut c = chain(3);
        c[2].kids = false;
        let new = MemberView::fresh(&u("n@x.io"));
        let p = plan_plain(&u("c2@x.io"), &plain(&new, &c[2], true, 10));
        let r = p.referrer.expect("it joins once");
        assert!(r.kids && p.first_referee);
        assert_eq!(r.connected_ns, 2, "its own connection time stays");
    }

    #[test]
    fn a_change_of_referrer_takes_the_old_edges_away() {
        let c = chain(4);
        let mut leaf = c[3].clone();
        leaf.kids = false;
        let other = MemberView::fresh(&u("o@x.io"));
        let p = plan_plain(&u("o@x.io"), &plain(&leaf, &other, false, 10));
        assert_eq!(p.gone.len(), 3, "its edges under c2, c1 and c0");
        assert!(!p.first_referrer);
        assert_eq!(p.user.root, u("o@x.io"));
    }

    #[test]
    fn a_link_into_a_moving_tree_is_fixed_by_the_move_unless_its_referrer_was_moved() {
        let c = chain(3);
        let new = MemberView::fresh(&u("n@x.io"));
        let seen = (
            u("c0@x.io"),
            FenceState::Raised {
                job: "j1".into(),
                epoch: 5,
            },
        );
        let mut f = plain(&new, &c[2], true, 10);
        f.fence_seen = Some(&seen);
        let p = plan_plain(&u("c2@x.io"), &f);
        assert_eq!(p.pending_for.as_deref(), Some("j1"));
        assert_eq!(p.user.moved_by, None);
        assert!(p.referrer.is_some(), "its upline is in doubt: it joins");
        assert_eq!(p.user.tree_epoch, 5);
        // its referrer already rewritten by the move: right as it is
        let mut moved = c[2].clone();
        moved.moved_by = Some("j1".into());
        let mut f = plain(&new, &moved, true, 10);
        f.fence_seen = Some(&seen);
        let p = plan_plain(&u("c2@x.io"), &f);
        assert_eq!(p.pending_for, None);
        assert_eq!(p.user.moved_by.as_deref(), Some("j1"));
        // a fence seen on another tree is not this one's
        let other = (u("x@x.io"), seen.1.clone());
        let mut f = plain(&new, &c[2], true, 10);
        f.fence_seen = Some(&other);
        assert_eq!(plan_plain(&u("c2@x.io"), &f).pending_for, None);
    }
}
