//! The rules of a connection, in the order their refusals take precedence. Pure: the store
//! reads the facts, these rules decide, and the store's transaction conditions keep the facts
//! true until the write.

use super::graph::MemberView;
use super::{Code, Program, ProgramId, UserId};

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
    CodeUnavailable,
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
    if f.code.flatten().is_some_and(|c| !c.active) {
        return Verdict::Refused(Refusal::CodeUnavailable);
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
}
