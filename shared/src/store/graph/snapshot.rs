//! What a link reads and answers: its request, one strongly consistent read of everything it
//! touches, and its outcome.

use std::collections::HashMap;

use super::Member;
use crate::domain::link::{judge, LinkFacts, LinkMode, Refusal, Verdict};
use crate::domain::{Level, NetworkId, Program, ProgramId, ReferralCode, UserId};
use crate::store::api_keys::AuthFailure;
use crate::store::codes::CodeItem;
use crate::store::users::ProfileItem;
use crate::store::{items, keys, Item, Key, StoreError};

pub struct LinkRequest<'a> {
    pub net: &'a NetworkId,
    pub program: &'a ProgramId,
    pub user: &'a UserId,
    pub referrer: &'a UserId,
    /// The code the link goes through; one of its shards counts the link.
    pub code: Option<&'a ReferralCode>,
    pub metadata: Option<String>,
    pub mode: LinkMode,
}

impl<'a> LinkRequest<'a> {
    pub fn new(
        net: &'a NetworkId,
        program: &'a ProgramId,
        user: &'a UserId,
        referrer: &'a UserId,
    ) -> Self {
        LinkRequest {
            net,
            program,
            user,
            referrer,
            code: None,
            metadata: None,
            mode: LinkMode::Add,
        }
    }

    /// Every item a link reads.
    pub fn keys(&self) -> Vec<Key> {
        let mut k = vec![
            keys::program(self.net, self.program),
            keys::membership(self.net, self.program, self.user),
            keys::membership(self.net, self.program, self.referrer),
            keys::profile(self.net, self.user),
            keys::profile(self.net, self.referrer),
        ];
        k.extend(self.code.map(keys::code));
        k
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub program_id: ProgramId,
    pub user: UserId,
    pub referrer: UserId,
    /// Cut at the program's max_levels.
    pub upline: Vec<UserId>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// `created` is false for an exact replay, or a change to the referrer the user had.
    Linked {
        connection: Box<Connection>,
        created: bool,
        user_was_new: bool,
    },
    /// The user's referrer was removed, with its subtree moving along.
    Removed,
    /// Too large for one transaction: a move job carries it out.
    Job(Box<crate::store::jobs::JobView>),
    Refused(Refusal),
    Auth(AuthFailure),
}

/// What one strongly consistent read shows of everything a link touches.
pub struct LinkSnapshot {
    pub program: Option<Program>,
    pub code: Option<CodeItem>,
    pub user: Member,
    pub referrer: Member,
    pub user_profile: Option<ProfileItem>,
    pub referrer_profile: Option<ProfileItem>,
}

impl LinkSnapshot {
    /// Takes the link's items out of a read.
    pub fn take(req: &LinkRequest<'_>, got: &mut HashMap<Key, Item>) -> Result<Self, StoreError> {
        let profile = |got: &mut HashMap<Key, Item>, u: &UserId| {
            got.remove(&keys::profile(req.net, u))
                .map(items::from_item::<ProfileItem>)
                .transpose()
        };
        Ok(LinkSnapshot {
            program: got
                .remove(&keys::program(req.net, req.program))
                .map(items::program)
                .transpose()?,
            code: match req.code {
                Some(c) => got
                    .remove(&keys::code(c))
                    .map(items::from_item::<CodeItem>)
                    .transpose()?
                    .filter(|c| c.network_id == req.net.as_str()),
                None => None,
            },
            user: Member::read(
                req.user,
                got.remove(&keys::membership(req.net, req.program, req.user)),
            )?,
            referrer: Member::read(
                req.referrer,
                got.remove(&keys::membership(req.net, req.program, req.referrer)),
            )?,
            user_profile: profile(got, req.user)?,
            referrer_profile: profile(got, req.referrer)?,
        })
    }

    pub fn judge(&self, req: &LinkRequest<'_>) -> Result<Verdict, StoreError> {
        let code = match (&req.code, &self.code) {
            (None, _) => None,
            (Some(_), None) => Some(None),
            (Some(_), Some(c)) => Some(Some(c.clone().into_code(Default::default())?)),
        };
        let facts = LinkFacts {
            program: self.program.as_ref(),
            code: code.as_ref().map(Option::as_ref),
            user: self.user.exists().then_some(&self.user.view),
            referrer: self.referrer.exists().then_some(&self.referrer.view),
            user_banned: self.user_profile.as_ref().is_some_and(ProfileItem::banned),
            referrer_banned: self
                .referrer_profile
                .as_ref()
                .is_some_and(ProfileItem::banned),
            now_ms: crate::clock::now_ms(),
        };
        Ok(judge(req.mode, req.program, req.user, req.referrer, &facts))
    }

    /// The connection as the user's membership stores it (a replay).
    pub fn stored_connection(&self, req: &LinkRequest<'_>) -> Connection {
        let max = self
            .program
            .as_ref()
            .map_or(Level::MAX, |p| p.max_levels)
            .depth();
        Connection {
            program_id: req.program.clone(),
            user: req.user.clone(),
            referrer: req.referrer.clone(),
            upline: self.user.view.upline.iter().take(max).cloned().collect(),
            created_at: self.user.item.connected_at.clone().unwrap_or_default(),
        }
    }
}
