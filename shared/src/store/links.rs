//! Connections: one TransactWriteItems per link, whatever the depth or the backfill.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::items::{self, count_attr, MembershipItem, ProfileItem, UserStatus};
use super::users::Seen;
use super::{keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, MAX_TX_ITEMS};
use crate::clock;
use crate::domain::graph::{check_link, plan_link, Descendant, LinkPlan, LinkRefusal, MemberView};
use crate::domain::{Code, NetworkId, Program, ProgramId, ReferralCode, UserId, MAX_LEVELS};

pub struct LinkRequest<'a> {
    pub net: &'a NetworkId,
    pub program: &'a ProgramId,
    pub user: &'a UserId,
    pub referrer: &'a UserId,
    /// The code the link goes through; its counter moves with the link.
    pub code: Option<&'a ReferralCode>,
    pub metadata: Option<String>,
    /// More counters that move on the code with this link (a DeSo credit's totals).
    pub code_adds: Vec<(&'static str, u64)>,
    /// When set, the code's (referee, referrer) amounts must still be these.
    pub code_amounts: Option<(u32, u32)>,
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
            code_adds: Vec::new(),
            code_amounts: None,
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
pub enum Refusal {
    ProgramNotFound,
    ProgramInactive,
    SelfReferral,
    AlreadyConnected,
    Cycle,
    UserBanned,
    SubtreeTooLarge,
    CodeNotFound,
    CodeUnavailable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// `created` is false for an exact replay of a link that exists.
    Linked {
        connection: Box<Connection>,
        created: bool,
        user_was_new: bool,
    },
    Refused(Refusal),
    Auth(AuthFailure),
}

/// What one strongly consistent read shows of everything a link touches.
pub struct LinkSnapshot {
    pub program: Option<Program>,
    pub code: Option<Code>,
    pub user_mem: Option<MembershipItem>,
    pub ref_mem: Option<MembershipItem>,
    pub user_profile: Option<ProfileItem>,
    pub ref_profile: Option<ProfileItem>,
}

impl LinkSnapshot {
    /// Takes the link's items out of a read.
    pub fn take(
        req: &LinkRequest<'_>,
        got: &mut HashMap<Key, Item>,
    ) -> Result<LinkSnapshot, StoreError> {
        Ok(LinkSnapshot {
            program: got
                .remove(&keys::program(req.net, req.program))
                .map(items::program)
                .transpose()?,
            code: match req.code {
                Some(c) => got.remove(&keys::code(c)).map(items::code).transpose()?,
                None => None,
            },
            user_mem: got
                .remove(&keys::membership(req.net, req.program, req.user))
                .map(items::from_item)
                .transpose()?,
            ref_mem: got
                .remove(&keys::membership(req.net, req.program, req.referrer))
                .map(items::from_item)
                .transpose()?,
            user_profile: got
                .remove(&keys::profile(req.net, req.user))
                .map(items::from_item)
                .transpose()?,
            ref_profile: got
                .remove(&keys::profile(req.net, req.referrer))
                .map(items::from_item)
                .transpose()?,
        })
    }
}

/// A link the rules allow, with what planning it needs.
pub struct Allowed {
    pub snap: LinkSnapshot,
    user_view: Option<MemberView>,
    ref_view: Option<MemberView>,
    max_levels: usize,
}

impl Allowed {
    pub fn code(&self) -> Option<&Code> {
        self.snap.code.as_ref()
    }
}

/// What the rules say of a link, given a snapshot.
pub enum Verdict {
    Allowed(Box<Allowed>),
    Replay(Box<Connection>, bool),
    Refused(Refusal),
}

/// The rules of a link, in the order their errors take precedence.
pub fn judge(req: &LinkRequest<'_>, snap: LinkSnapshot) -> Result<Verdict, StoreError> {
    let Some(program) = &snap.program else {
        return Ok(Verdict::Refused(Refusal::ProgramNotFound));
    };
    if req.code.is_some() {
        match &snap.code {
            Some(c) if &c.network == req.net && &c.program == req.program => {}
            _ => return Ok(Verdict::Refused(Refusal::CodeNotFound)),
        }
    }
    let user_view = snap
        .user_mem
        .as_ref()
        .map(MembershipItem::view)
        .transpose()?;
    let ref_view = snap
        .ref_mem
        .as_ref()
        .map(MembershipItem::view)
        .transpose()?;
    let max_levels = program.max_levels as usize;
    let user_was_new = snap.user_profile.is_none();
    match check_link(req.user, req.referrer, user_view.as_ref(), None) {
        Err(LinkRefusal::SelfReferral) => return Ok(Verdict::Refused(Refusal::SelfReferral)),
        Err(LinkRefusal::AlreadyThisReferrer) => {
            let (Some(m), Some(v)) = (snap.user_mem.as_ref(), user_view.as_ref()) else {
                return Err(StoreError::Corrupt("membership vanished".into()));
            };
            return Ok(Verdict::Replay(
                Box::new(Connection {
                    program_id: req.program.clone(),
                    user: req.user.clone(),
                    referrer: req.referrer.clone(),
                    upline: v.upline.iter().take(max_levels).cloned().collect(),
                    created_at: m.connected_at.clone().unwrap_or_default(),
                }),
                user_was_new,
            ));
        }
        Err(LinkRefusal::AlreadyConnected) => {
            return Ok(Verdict::Refused(Refusal::AlreadyConnected))
        }
        _ => {}
    }
    let banned =
        |p: &Option<ProfileItem>| p.as_ref().is_some_and(|p| p.status == UserStatus::Banned);
    if banned(&snap.user_profile) || banned(&snap.ref_profile) {
        return Ok(Verdict::Refused(Refusal::UserBanned));
    }
    if !program.active {
        return Ok(Verdict::Refused(Refusal::ProgramInactive));
    }
    if let Some(c) = &snap.code {
        if !c.accepts_referral() {
            return Ok(Verdict::Refused(Refusal::CodeUnavailable));
        }
    }
    if check_link(
        req.user,
        req.referrer,
        user_view.as_ref(),
        ref_view.as_ref(),
    )
    .is_err()
    {
        return Ok(Verdict::Refused(Refusal::Cycle));
    }
    Ok(Verdict::Allowed(Box::new(Allowed {
        snap,
        user_view,
        ref_view,
        max_levels,
    })))
}

impl Store {
    pub async fn link(
        &self,
        req: &LinkRequest<'_>,
        probe: Option<&KeyProbe>,
    ) -> Result<LinkOutcome, StoreError> {
        self.retrying(|attempt| self.link_attempt(req, probe.filter(|_| attempt == 0)))
            .await
    }

    async fn link_attempt(
        &self,
        req: &LinkRequest<'_>,
        probe: Option<&KeyProbe>,
    ) -> Result<Attempt<LinkOutcome>, StoreError> {
        let mut wanted = req.keys();
        wanted.extend(probe.map(|p| p.key.clone()));
        let mut got = self.batch_get(&wanted).await?;
        if let Some(p) = probe {
            if let Err(f) = check_key(got.get(&p.key), req.net) {
                return Ok(Attempt::Done(LinkOutcome::Auth(f)));
            }
        }
        let allowed = match judge(req, LinkSnapshot::take(req, &mut got)?)? {
            Verdict::Allowed(a) => a,
            Verdict::Replay(connection, user_was_new) => {
                return Ok(Attempt::Done(LinkOutcome::Linked {
                    connection,
                    created: false,
                    user_was_new,
                }))
            }
            Verdict::Refused(r) => return Ok(Attempt::Done(LinkOutcome::Refused(r))),
        };
        let now = clock::now();
        let (tx, connection) = match self.prepare_link(req, &allowed, &now, 0).await? {
            Ok(p) => p,
            Err(r) => return Ok(Attempt::Done(LinkOutcome::Refused(r))),
        };
        match self.transact(tx).await {
            Ok(()) => Ok(Attempt::Done(LinkOutcome::Linked {
                connection: Box::new(connection),
                created: true,
                user_was_new: allowed.snap.user_profile.is_none(),
            })),
            // Something moved under us: read again, and let the rules answer.
            Err(e) => e.retry(),
        }
    }

    /// The transaction items of an allowed link, leaving room for `reserve` more items;
    /// refused with SubtreeTooLarge when they would not fit.
    pub async fn prepare_link(
        &self,
        req: &LinkRequest<'_>,
        a: &Allowed,
        now: &clock::Now,
        reserve: usize,
    ) -> Result<Result<(Vec<TransactWriteItem>, Connection), Refusal>, StoreError> {
        let subtree = match &a.user_view {
            Some(v) if v.children > 0 => match self
                .load_subtree(req.net, req.program, req.user, MAX_TX_ITEMS)
                .await?
            {
                Some(s) => s,
                None => return Ok(Err(Refusal::SubtreeTooLarge)),
            },
            _ => Vec::new(),
        };
        let plan = plan_link(
            req.user,
            req.referrer,
            a.ref_view.as_ref(),
            now.ns as u128,
            &subtree,
        );
        let tx = self.link_items(req, &a.snap, a.user_view.as_ref(), &subtree, &plan, now)?;
        if tx.len() + reserve > MAX_TX_ITEMS {
            return Ok(Err(Refusal::SubtreeTooLarge));
        }
        Ok(Ok((
            tx,
            Connection {
                program_id: req.program.clone(),
                user: req.user.clone(),
                referrer: req.referrer.clone(),
                upline: plan.upline.iter().take(a.max_levels).cloned().collect(),
                created_at: now.rfc3339.clone(),
            },
        )))
    }

    fn link_items(
        &self,
        req: &LinkRequest<'_>,
        snap: &LinkSnapshot,
        user_view: Option<&MemberView>,
        subtree: &[Descendant],
        plan: &LinkPlan,
        now: &clock::Now,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut tx = Vec::new();
        for (who, seen) in [
            (req.user, &snap.user_profile),
            (req.referrer, &snap.ref_profile),
        ] {
            tx.push(self.profile_counts(
                req.net,
                who,
                "links",
                1,
                Seen::from(seen.as_ref()),
                now,
            )?);
        }

        let mut e = Expr::new();
        let cond = format!("{} = {}", e.n("active"), e.v(AttributeValue::Bool(true)));
        tx.push(self.tx_check(&keys::program(req.net, req.program), &cond, &e)?);

        // The user's membership: it must still be the root we saw, with the children we saw.
        let mut e = Expr::new();
        let mut sets = vec![
            format!("{} = {}", e.n("user"), e.v(s(req.user.as_str()))),
            format!("{} = {}", e.n("referrer"), e.v(s(req.referrer.as_str()))),
            format!("{} = {}", e.n("upline"), e.v(users_list(&plan.upline))),
            format!("{} = {}", e.n("root"), e.v(s(plan.root.as_str()))),
            format!("{} = {}", e.n("connected_ns"), e.v(n(now.ns))),
            format!("{} = {}", e.n("connected_at"), e.v(s(&now.rfc3339))),
        ];
        if let Some(m) = &req.metadata {
            sets.push(format!("{} = {}", e.n("metadata"), e.v(s(m))));
        }
        let cond = match user_view {
            None => format!("attribute_not_exists({})", e.n(keys::PK)),
            Some(v) => format!(
                "attribute_not_exists({}) AND {} = {} AND {}",
                e.n("referrer"),
                e.n("root"),
                e.v(s(req.user.as_str())),
                children_are(&mut e, v.children)
            ),
        };
        tx.push(self.tx_update(
            &keys::membership(req.net, req.program, req.user),
            &format!("SET {}", sets.join(", ")),
            Some(&cond),
            &e,
        )?);

        // Ancestors gain counts; the root must still be a root.
        let ref_is_new = snap.ref_mem.is_none();
        for (ancestor, adds) in &plan.count_adds {
            tx.push(self.ancestor_update(
                req,
                ancestor,
                adds,
                ancestor == &plan.root,
                ref_is_new && ancestor == req.referrer,
                now,
            )?);
        }
        if !plan.count_adds.contains_key(&plan.root) {
            let mut e = Expr::new();
            let cond = format!(
                "attribute_exists({}) AND attribute_not_exists({})",
                e.n(keys::PK),
                e.n("referrer")
            );
            tx.push(self.tx_check(
                &keys::membership(req.net, req.program, &plan.root),
                &cond,
                &e,
            )?);
        }

        for edge in &plan.edges {
            let key = keys::downline_edge(
                req.net,
                req.program,
                &edge.ancestor,
                edge.level,
                edge.connected_ns,
                &edge.member,
            );
            let item: Item = HashMap::from([
                ("user".to_owned(), s(edge.member.as_str())),
                ("level".to_owned(), n(edge.level)),
                (
                    "connected_at".to_owned(),
                    s(clock::rfc3339(edge.connected_ns as u64)),
                ),
            ]);
            tx.push(self.tx_put(items::with_key(item, &key), None, &Expr::new(), false)?);
        }

        let children: HashMap<&UserId, u64> = subtree
            .iter()
            .map(|d| (&d.member.user, d.member.children))
            .collect();
        for (member, upline) in &plan.rewrites {
            let mut e = Expr::new();
            let update = format!(
                "SET {} = {}, {} = {}",
                e.n("upline"),
                e.v(users_list(upline)),
                e.n("root"),
                e.v(s(plan.root.as_str()))
            );
            let kids = children.get(member).copied().unwrap_or(0);
            let cond = format!(
                "{} = {} AND {}",
                e.n("root"),
                e.v(s(req.user.as_str())),
                children_are(&mut e, kids)
            );
            tx.push(self.tx_update(
                &keys::membership(req.net, req.program, member),
                &update,
                Some(&cond),
                &e,
            )?);
        }

        if let Some(code) = req.code {
            let mut e = Expr::new();
            let mut adds = vec![format!("{} {}", e.n("total_referrals"), e.v(n(1)))];
            for (attr, k) in &req.code_adds {
                adds.push(format!("{} {}", e.n(attr), e.v(n(*k))));
            }
            let mut cond = code_accepts(&mut e);
            if let Some((referee, referrer)) = req.code_amounts {
                cond.push_str(&format!(
                    " AND {} = {} AND {} = {}",
                    e.n("referee_amount_usd_cents"),
                    e.v(n(referee)),
                    e.n("referrer_amount_usd_cents"),
                    e.v(n(referrer))
                ));
            }
            tx.push(self.tx_update(
                &keys::code(code),
                &format!("ADD {}", adds.join(", ")),
                Some(&cond),
                &e,
            )?);
            // Who came through the code, for DeSo's ReferredUsers.
            let item: Item = HashMap::from([
                ("user".to_owned(), s(req.user.as_str())),
                ("connected_at".to_owned(), s(&now.rfc3339)),
            ]);
            tx.push(self.tx_put(
                items::with_key(item, &keys::code_referral(code, now.ns, req.user)),
                None,
                &Expr::new(),
                false,
            )?);
        }
        Ok(tx)
    }

    fn ancestor_update(
        &self,
        req: &LinkRequest<'_>,
        ancestor: &UserId,
        adds: &BTreeMap<u8, u64>,
        is_root: bool,
        create: bool,
        now: &clock::Now,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let add: Vec<String> = adds
            .iter()
            .map(|(level, k)| format!("{} {}", e.n(&count_attr(*level)), e.v(n(*k))))
            .collect();
        let mut update = String::new();
        let cond;
        if create {
            update.push_str(&format!(
                "SET {} = {}, {} = {}, {} = {}, {} = {} ",
                e.n("user"),
                e.v(s(ancestor.as_str())),
                e.n("root"),
                e.v(s(ancestor.as_str())),
                e.n("upline"),
                e.v(AttributeValue::L(Vec::new())),
                e.n("connected_ns"),
                e.v(n(now.ns))
            ));
            cond = format!("attribute_not_exists({})", e.n(keys::PK));
        } else if is_root {
            cond = format!(
                "attribute_exists({}) AND attribute_not_exists({})",
                e.n(keys::PK),
                e.n("referrer")
            );
        } else {
            cond = format!("attribute_exists({})", e.n(keys::PK));
        }
        update.push_str(&format!("ADD {}", add.join(", ")));
        self.tx_update(
            &keys::membership(req.net, req.program, ancestor),
            &update,
            Some(&cond),
            &e,
        )
    }

    /// Every member below `user`, at any depth, or None when there are more than `budget`.
    pub async fn load_subtree(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        budget: usize,
    ) -> Result<Option<Vec<Descendant>>, StoreError> {
        let mut out: Vec<Descendant> = Vec::new();
        let mut frontier = vec![(user.clone(), 0usize)];
        while let Some((top, base)) = frontier.pop() {
            let mut found = Vec::new();
            let mut start = None;
            loop {
                let page = self
                    .downline_page(
                        net,
                        prog,
                        &top,
                        Levels::UpTo(MAX_LEVELS),
                        1000,
                        start.take(),
                    )
                    .await?;
                found.extend(page.edges);
                if out.len() + found.len() > budget {
                    return Ok(None);
                }
                match page.last_sk {
                    Some(sk) => start = Some(sk),
                    None => break,
                }
            }
            for chunk in found.chunks(100) {
                let wanted: Vec<Key> = chunk
                    .iter()
                    .map(|e| keys::membership(net, prog, &e.user))
                    .collect();
                let mut got = self.batch_get(&wanted).await?;
                for (edge, key) in chunk.iter().zip(&wanted) {
                    let Some(item) = got.remove(key) else {
                        return Err(StoreError::Corrupt("edge without membership".into()));
                    };
                    let m: MembershipItem = items::from_item(item)?;
                    let depth = base + edge.level as usize;
                    let view = m.view()?;
                    if edge.level == MAX_LEVELS && view.children > 0 {
                        frontier.push((view.user.clone(), depth));
                    }
                    out.push(Descendant {
                        member: view,
                        depth,
                    });
                }
            }
        }
        Ok(Some(out))
    }
}

/// Condition that a code takes one more referral: active, and below a positive cap.
pub fn code_accepts(e: &mut Expr) -> String {
    format!(
        "({a} = {t} AND ({m} = {z} OR {tot} < {m}))",
        a = e.n("active"),
        t = e.v(AttributeValue::Bool(true)),
        m = e.n("max_referrals"),
        z = e.v(n(0)),
        tot = e.n("total_referrals"),
    )
}

/// Condition that a member has exactly `k` direct referees.
fn children_are(e: &mut Expr, k: u64) -> String {
    let c1 = e.n(&count_attr(1));
    if k == 0 {
        format!("(attribute_not_exists({c1}) OR {c1} = {})", e.v(n(0)))
    } else {
        format!("{c1} = {}", e.v(n(k)))
    }
}

fn users_list(users: &[UserId]) -> AttributeValue {
    AttributeValue::L(users.iter().map(|u| s(u.as_str())).collect())
}

/// Which levels of a downline a Query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Levels {
    Exactly(u8),
    UpTo(u8),
}

/// One row of a member's downline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeRow {
    pub user: UserId,
    pub level: u8,
    pub connected_at: String,
    pub sk: String,
}

pub struct DownlinePage {
    pub edges: Vec<EdgeRow>,
    /// Sort key to resume after, when there is more.
    pub last_sk: Option<String>,
}

/// What GET User Connections reads before its downline page.
pub struct MemberHead {
    pub auth: Result<(), AuthFailure>,
    pub program: Option<Program>,
    pub member: Option<MembershipItem>,
}

impl Store {
    /// Key and program in one round trip.
    pub async fn program_head(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        probe: &KeyProbe,
    ) -> Result<(Result<(), AuthFailure>, Option<Program>), StoreError> {
        let k_program = keys::program(net, prog);
        let mut got = self
            .batch_get(&[probe.key.clone(), k_program.clone()])
            .await?;
        Ok((
            check_key(got.get(&probe.key), net),
            got.remove(&k_program).map(items::program).transpose()?,
        ))
    }

    /// Key, program and membership in one round trip.
    pub async fn member_head(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        probe: &KeyProbe,
    ) -> Result<MemberHead, StoreError> {
        let k_program = keys::program(net, prog);
        let k_mem = keys::membership(net, prog, user);
        let mut got = self
            .batch_get(&[probe.key.clone(), k_program.clone(), k_mem.clone()])
            .await?;
        Ok(MemberHead {
            auth: check_key(got.get(&probe.key), net),
            program: got.remove(&k_program).map(items::program).transpose()?,
            member: got.remove(&k_mem).map(items::from_item).transpose()?,
        })
    }

    /// One Query: a page of `ancestor`'s downline, one level or all, by level then time.
    pub async fn downline_page(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        ancestor: &UserId,
        levels: Levels,
        limit: i32,
        start_sk: Option<String>,
    ) -> Result<DownlinePage, StoreError> {
        let pk = keys::downline_partition(net, prog, ancestor);
        let mut e = Expr::new();
        let mut kc = format!("{} = {}", e.n(keys::PK), e.v(s(&pk)));
        match levels {
            Levels::Exactly(l) => kc.push_str(&format!(
                " AND begins_with({}, {})",
                e.n(keys::SK),
                e.v(s(keys::level_prefix(l)))
            )),
            Levels::UpTo(l) if l < MAX_LEVELS => kc.push_str(&format!(
                " AND {} < {}",
                e.n(keys::SK),
                e.v(s(keys::level_prefix(l + 1)))
            )),
            Levels::UpTo(_) => {}
        }
        let start = start_sk.map(|sk| super::key_item(&(pk.clone(), sk)));
        let resp = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(kc)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .consistent_read(true)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(super::classify)?;
        let mut edges = Vec::new();
        for item in resp.items.unwrap_or_default() {
            let (_, sk) = super::item_key(&item)?;
            let Some((lvl, ns, user)) = keys::parse_edge_sk(&sk) else {
                return Err(StoreError::Corrupt("edge sort key".into()));
            };
            edges.push(EdgeRow {
                user: items::user_id(user)?,
                level: lvl,
                connected_at: clock::rfc3339(ns as u64),
                sk: sk.clone(),
            });
        }
        let last_sk = match resp.last_evaluated_key {
            Some(k) => Some(super::item_key(&k)?.1),
            None => None,
        };
        Ok(DownlinePage { edges, last_sk })
    }
}
