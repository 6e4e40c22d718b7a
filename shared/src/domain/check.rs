//! The table's invariants, checked over everything read from it: the rules of `API.md`
//! (one referrer, no cycle, uplines equal to the chain, code totals equal to their
//! connections, one credit with a ledger that agrees) and the derived items (edges, counts).

use std::collections::{BTreeMap, BTreeSet};

use super::Level;

/// A program of a network: (network, program).
pub type Scope = (String, String);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFact {
    pub referrer: Option<String>,
    pub upline: Vec<String>,
    pub root: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeFact {
    pub total_referrals: u64,
    pub num_jumio_successes: u64,
    pub total_referrer_deso_nanos: u64,
    pub total_referee_deso_nanos: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreditFact {
    pub counted: bool,
    pub code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerFact {
    pub network: String,
    pub beneficiary: String,
    pub referee: String,
    pub role: String,
    pub deso_nanos: u64,
    pub code: Option<String>,
    pub counted: bool,
}

/// Everything the checks need, as read from the table.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub members: BTreeMap<Scope, BTreeMap<String, MemberFact>>,
    /// (ancestor, level, member) per program.
    pub edges: BTreeMap<Scope, BTreeSet<(String, u8, String)>>,
    /// Edges stored in a partition their member does not hash to.
    pub misplaced_edges: Vec<String>,
    /// The aggregator's marks of counted edges, as (ancestor, level, member) per program.
    pub marks: BTreeMap<Scope, BTreeSet<(String, u8, String)>>,
    /// Summed per-level counts per program and member.
    pub counts: BTreeMap<Scope, BTreeMap<String, [i64; Level::MAX.depth()]>>,
    /// Direct referees summed over the months of connection (`m<YYYYMM>`), per program and
    /// member: the monthly leaderboards' counts, which add up to the level-1 count.
    pub month_sums: BTreeMap<Scope, BTreeMap<String, i64>>,
    pub codes: BTreeMap<String, CodeFact>,
    /// Connections recorded through each code.
    pub code_refs: BTreeMap<String, u64>,
    /// Per (network, user).
    pub credits: BTreeMap<(String, String), CreditFact>,
    pub ledger: Vec<LedgerFact>,
    /// Programs with a move job running: their trees may be mid-rewrite.
    pub moving: BTreeSet<Scope>,
    /// Raised fences: (network, program, root, job), and the jobs that are running.
    pub fences: Vec<(String, String, String, String)>,
    pub running_jobs: BTreeSet<(String, String)>,
    /// Rewards, their copies, balances and payout lines (`reward_check`).
    pub rewards: super::reward_check::RewardFacts,
    /// Webhooks, their messages and the changes that tell (`webhook_check`).
    pub webhooks: super::webhook_check::WebhookFacts,
}

/// What the check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub violations: Vec<String>,
    /// Counted things, for the printout.
    pub seen: BTreeMap<&'static str, u64>,
    /// Programs skipped because a move is running in them.
    pub skipped: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The chain of referrers above `user`, nearest first, as far as it goes; Err on a cycle.
fn chain(members: &BTreeMap<String, MemberFact>, user: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = BTreeSet::from([user.to_owned()]);
    let mut cur = members.get(user).and_then(|m| m.referrer.clone());
    while let Some(r) = cur {
        if !seen.insert(r.clone()) {
            return Err(r);
        }
        cur = members.get(&r).and_then(|m| m.referrer.clone());
        out.push(r);
    }
    Ok(out)
}

fn check_graph(
    scope: &Scope,
    members: &BTreeMap<String, MemberFact>,
    facts: &Facts,
    report: &mut Report,
) {
    let (net, prog) = scope;
    let at = |u: &str| format!("{net}/{prog}/{u}");
    let mut expected: BTreeSet<(String, u8, String)> = BTreeSet::new();
    let mut levels: BTreeMap<&str, [i64; Level::MAX.depth()]> = BTreeMap::new();
    for (user, m) in members {
        if let Some(r) = &m.referrer {
            if !members.contains_key(r) {
                report
                    .violations
                    .push(format!("{}: referrer {r} has no membership", at(user)));
            }
        }
        let full = match chain(members, user) {
            Ok(c) => c,
            Err(r) => {
                report
                    .violations
                    .push(format!("{}: cycle through {r}", at(user)));
                continue;
            }
        };
        let upline: Vec<String> = full.iter().take(Level::MAX.depth()).cloned().collect();
        if upline != m.upline {
            report.violations.push(format!(
                "{}: stored upline {:?} is not the chain {:?}",
                at(user),
                m.upline,
                upline
            ));
        }
        let root = full.last().unwrap_or(user);
        if *root != m.root {
            report
                .violations
                .push(format!("{}: root {} is not {root}", at(user), m.root));
        }
        for (i, a) in upline.iter().enumerate() {
            expected.insert((a.clone(), i as u8 + 1, user.clone()));
        }
    }
    let empty = BTreeSet::new();
    let stored = facts.edges.get(scope).unwrap_or(&empty);
    for (a, l, u) in expected.difference(stored) {
        report
            .violations
            .push(format!("{}: missing edge from {a} at level {l}", at(u)));
    }
    for (a, l, u) in stored.difference(&expected) {
        report
            .violations
            .push(format!("{}: stray edge from {a} at level {l}", at(u)));
    }
    for (a, l, _) in stored {
        if let Some(slot) = levels
            .entry(a)
            .or_insert([0; Level::MAX.depth()])
            .get_mut(*l as usize - 1)
        {
            *slot += 1;
        }
    }
    let no_counts = BTreeMap::new();
    let counts = facts.counts.get(scope).unwrap_or(&no_counts);
    let who: BTreeSet<&str> = levels
        .keys()
        .copied()
        .chain(counts.keys().map(String::as_str))
        .collect();
    for u in who {
        let want = levels.get(u).copied().unwrap_or([0; Level::MAX.depth()]);
        let have = counts.get(u).copied().unwrap_or([0; Level::MAX.depth()]);
        if want != have {
            report.violations.push(format!(
                "{}: counts {have:?} are not the edges' {want:?}",
                at(u)
            ));
        }
        let months = facts
            .month_sums
            .get(scope)
            .and_then(|m| m.get(u))
            .copied()
            .unwrap_or(0);
        if months != have[0] {
            report.violations.push(format!(
                "{}: direct referees by month sum to {months}, not {}",
                at(u),
                have[0]
            ));
        }
    }
    // A count is its marks: each edge marked once, and no mark without its edge.
    let marks = facts.marks.get(scope).unwrap_or(&empty);
    for (a, l, u) in stored.difference(marks) {
        report
            .violations
            .push(format!("{}: edge from {a} at level {l} has no mark", at(u)));
    }
    for (a, l, u) in marks.difference(stored) {
        report.violations.push(format!(
            "{}: mark from {a} at level {l} without its edge",
            at(u)
        ));
    }
    *report.seen.entry("members").or_default() += members.len() as u64;
    *report.seen.entry("edges").or_default() += stored.len() as u64;
}

fn check_codes(facts: &Facts, report: &mut Report) {
    for (code, c) in &facts.codes {
        let refs = facts.code_refs.get(code).copied().unwrap_or(0);
        if c.total_referrals != refs {
            report.violations.push(format!(
                "code {code}: TotalReferrals {} but {refs} connections through it",
                c.total_referrals
            ));
        }
    }
    for code in facts.code_refs.keys() {
        if !facts.codes.contains_key(code) {
            report.violations.push(format!(
                "code {code}: connections through a code that does not exist"
            ));
        }
    }
    // Credits and the ledger, per code: counted successes and both nanos totals.
    let mut per_code: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut referee_entries: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in &facts.ledger {
        if e.role == "referee" {
            *referee_entries.entry((&e.network, &e.referee)).or_default() += 1;
        }
        if !e.counted {
            continue;
        }
        let Some(code) = e.code.as_deref() else {
            continue;
        };
        let t = per_code.entry(code).or_default();
        match e.role.as_str() {
            "referee" => {
                t.0 += 1;
                t.2 += e.deso_nanos;
            }
            _ => t.1 += e.deso_nanos,
        }
    }
    for ((net, user), credit) in &facts.credits {
        let n = referee_entries
            .get(&(net.as_str(), user.as_str()))
            .copied()
            .unwrap_or(0);
        if n != 1 {
            report.violations.push(format!(
                "{net}/{user}: credited once but {n} referee ledger entries"
            ));
        }
        if credit.counted && credit.code.is_none() {
            report
                .violations
                .push(format!("{net}/{user}: a counted credit without a code"));
        }
    }
    for ((net, user), n) in &referee_entries {
        if !facts
            .credits
            .contains_key(&((*net).to_owned(), (*user).to_owned()))
        {
            report.violations.push(format!(
                "{net}/{user}: {n} referee ledger entries without a credit"
            ));
        }
    }
    for (code, c) in &facts.codes {
        let (successes, kick, bonus) = per_code.get(code.as_str()).copied().unwrap_or_default();
        let have = (
            c.num_jumio_successes,
            c.total_referrer_deso_nanos,
            c.total_referee_deso_nanos,
        );
        if have != (successes, kick, bonus) {
            report.violations.push(format!(
                "code {code}: (successes, referrer nanos, referee nanos) {have:?} but the ledger says {:?}",
                (successes, kick, bonus)
            ));
        }
    }
    *report.seen.entry("codes").or_default() += facts.codes.len() as u64;
    *report.seen.entry("credits").or_default() += facts.credits.len() as u64;
}

/// Checks every invariant; programs with a running move are left out of the graph checks.
pub fn check(facts: &Facts) -> Report {
    let mut report = Report::default();
    for (scope, members) in &facts.members {
        if facts.moving.contains(scope) {
            report.skipped.push(format!("{}/{}", scope.0, scope.1));
            continue;
        }
        check_graph(scope, members, facts, &mut report);
    }
    for scope in facts.edges.keys().chain(facts.counts.keys()) {
        if !facts.members.contains_key(scope) && !facts.moving.contains(scope) {
            check_graph(scope, &BTreeMap::new(), facts, &mut report);
        }
    }
    for e in &facts.misplaced_edges {
        report.violations.push(format!(
            "edge {e} is in a shard its member does not hash to"
        ));
    }
    for (net, prog, root, job) in &facts.fences {
        if !facts.running_jobs.contains(&(net.clone(), job.clone())) {
            report.violations.push(format!(
                "{net}/{prog}: the tree of {root} is fenced by job {job}, which is not running"
            ));
        }
    }
    check_codes(facts, &mut report);
    super::reward_check::check_rewards(&facts.rewards, &mut report);
    super::webhook_check::check_webhooks(&facts.webhooks, &mut report);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        ("n".into(), "p".into())
    }

    fn member<'a>(f: &'a mut Facts, user: &str) -> &'a mut MemberFact {
        f.members
            .get_mut(&scope())
            .and_then(|m| m.get_mut(user))
            .expect("a member of good()")
    }

    /// Whether the check reports a violation saying `what`.
    fn found(f: &Facts, what: &str) -> bool {
        check(f).violations.iter().any(|v| v.contains(what))
    }

    /// A consistent program: r <- a <- b, with its edges and counts.
    fn good() -> Facts {
        let m = |referrer: Option<&str>, upline: &[&str], root: &str| MemberFact {
            referrer: referrer.map(str::to_owned),
            upline: upline.iter().map(|s| (*s).to_owned()).collect(),
            root: root.into(),
        };
        let mut f = Facts::default();
        f.members.insert(
            scope(),
            BTreeMap::from([
                ("r".to_owned(), m(None, &[], "r")),
                ("a".to_owned(), m(Some("r"), &["r"], "r")),
                ("b".to_owned(), m(Some("a"), &["a", "r"], "r")),
            ]),
        );
        let edges = BTreeSet::from([
            ("r".to_owned(), 1, "a".to_owned()),
            ("a".to_owned(), 1, "b".to_owned()),
            ("r".to_owned(), 2, "b".to_owned()),
        ]);
        f.edges.insert(scope(), edges.clone());
        f.marks.insert(scope(), edges);
        let mut r = [0; Level::MAX.depth()];
        r[0] = 1;
        r[1] = 1;
        let mut a = [0; Level::MAX.depth()];
        a[0] = 1;
        f.counts.insert(
            scope(),
            BTreeMap::from([("r".to_owned(), r), ("a".to_owned(), a)]),
        );
        f.month_sums.insert(
            scope(),
            BTreeMap::from([("r".to_owned(), 1), ("a".to_owned(), 1)]),
        );
        f
    }

    #[test]
    fn a_consistent_table_passes() {
        let r = check(&good());
        assert!(r.ok(), "{:?}", r.violations);
        // a month's count that drifted from the level-1 count is found
        let mut f = good();
        f.month_sums
            .get_mut(&scope())
            .unwrap()
            .insert("a".into(), 2);
        assert!(found(&f, "by month sum to 2, not 1"));
        assert_eq!(r.seen["members"], 3);
        assert_eq!(r.seen["edges"], 3);
    }

    #[test]
    fn a_cycle_is_found() {
        let mut f = good();
        member(&mut f, "r").referrer = Some("b".into());
        assert!(found(&f, "cycle"));
    }

    #[test]
    fn a_wrong_upline_root_edge_or_count_is_found() {
        let mut f = good();
        member(&mut f, "b").upline = vec!["a".into()];
        assert!(found(&f, "stored upline"));

        let mut f = good();
        member(&mut f, "b").root = "a".into();
        assert!(found(&f, "root a"));

        let mut f = good();
        f.edges
            .get_mut(&scope())
            .unwrap()
            .remove(&("r".into(), 2, "b".into()));
        assert!(found(&f, "missing edge") && found(&f, "counts"));

        let mut f = good();
        f.edges
            .get_mut(&scope())
            .unwrap()
            .insert(("b".into(), 1, "a".into()));
        assert!(found(&f, "stray edge"));

        let mut f = good();
        f.counts.get_mut(&scope()).unwrap().get_mut("a").unwrap()[0] = 2;
        assert!(found(&f, "counts"));
    }

    #[test]
    fn a_running_move_skips_its_program_only() {
        let mut f = good();
        member(&mut f, "b").upline = vec![];
        f.moving.insert(scope());
        let r = check(&f);
        assert!(r.ok());
        assert_eq!(r.skipped, ["n/p"]);
    }

    #[test]
    fn a_fence_without_its_job_is_found() {
        let mut f = good();
        f.fences
            .push(("n".into(), "p".into(), "r".into(), "j1".into()));
        assert!(!check(&f).ok());
        f.running_jobs.insert(("n".into(), "j1".into()));
        assert!(check(&f).ok());
    }

    fn credited() -> Facts {
        let mut f = good();
        f.codes.insert(
            "c".into(),
            CodeFact {
                total_referrals: 1,
                num_jumio_successes: 1,
                total_referrer_deso_nanos: 7,
                total_referee_deso_nanos: 9,
            },
        );
        f.code_refs.insert("c".into(), 1);
        f.credits.insert(
            ("n".into(), "a".into()),
            CreditFact {
                counted: true,
                code: Some("c".into()),
            },
        );
        let e = |beneficiary: &str, role: &str, nanos| LedgerFact {
            network: "n".into(),
            beneficiary: beneficiary.into(),
            referee: "a".into(),
            role: role.into(),
            deso_nanos: nanos,
            code: Some("c".into()),
            counted: true,
        };
        f.ledger = vec![e("a", "referee", 9), e("r", "referrer", 7)];
        f
    }

    #[test]
    fn codes_credits_and_the_ledger_agree() {
        assert!(check(&credited()).ok(), "{:?}", check(&credited()));

        let mut f = credited();
        f.codes.get_mut("c").unwrap().total_referrals = 2;
        assert!(found(&f, "TotalReferrals"));

        let mut f = credited();
        f.ledger[1].deso_nanos = 8;
        assert!(found(&f, "ledger says"));

        let mut f = credited();
        f.ledger.push(f.ledger[0].clone());
        assert!(found(&f, "2 referee ledger"));

        let mut f = credited();
        f.credits.clear();
        assert!(found(&f, "without a credit"));
    }

    #[test]
    fn an_edge_without_its_mark_and_a_mark_without_its_edge_are_found() {
        let mut f = good();
        assert!(check(&f).ok());
        f.marks
            .get_mut(&scope())
            .unwrap()
            .remove(&("r".to_owned(), 2, "b".to_owned()));
        assert!(found(&f, "has no mark"));
        let mut f = good();
        f.marks
            .get_mut(&scope())
            .unwrap()
            .insert(("r".to_owned(), 3, "x".to_owned()));
        assert!(found(&f, "without its edge"));
    }
}
