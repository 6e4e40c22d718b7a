//! Invariant 7 of the contract, over the rewards' items as `refnet-admin check` reads them:
//! one reward per (event, program, rule, level), one payout per reward, and settled balances
//! equal to the sums of their rewards.

use std::collections::BTreeMap;

use super::check::Report;
use super::reward::{bucket, clawback_id, reward_id, RewardStatus, DESO_PAYOUT};

/// A reward as one of its items holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardFact {
    pub user: String,
    pub status: RewardStatus,
    pub amount: i64,
    pub approvable_ns: u64,
    pub payout_id: Option<String>,
    /// The id its fields derive (a clawback's, from the reward it reverses).
    pub derived_id: String,
    /// The balance bucket a user copy is counted in.
    pub bal: Option<String>,
}

impl RewardFact {
    pub fn derive_id(
        net: &str,
        event_id: &str,
        program: &str,
        rule: &str,
        level: u8,
        reverses: Option<&str>,
    ) -> String {
        match reverses {
            Some(original) => clawback_id(original),
            None => reward_id(net, event_id, program, rule, level),
        }
    }
}

/// Per network: rewards by id (canonical items and both copies), balances and payout lines.
#[derive(Clone, Debug, Default)]
pub struct RewardFacts {
    pub canonical: BTreeMap<(String, String), RewardFact>,
    pub user_copies: BTreeMap<(String, String), RewardFact>,
    pub program_copies: BTreeMap<(String, String), RewardFact>,
    /// (network, user) → bucket → cents.
    pub balances: BTreeMap<(String, String), BTreeMap<String, i64>>,
    /// (network, payout, user) → (paid cents, rewards).
    pub lines: BTreeMap<(String, String, String), (i64, u64)>,
}

pub fn check_rewards(f: &RewardFacts, report: &mut Report) {
    let v = &mut report.violations;
    for ((net, id), r) in &f.canonical {
        if *id != r.derived_id {
            v.push(format!(
                "{net}: reward {id} is not the id its key derives ({})",
                r.derived_id
            ));
        }
        if (r.status == RewardStatus::Paid) != r.payout_id.is_some() {
            v.push(format!(
                "{net}: reward {id} is {:?} with payout {:?}",
                r.status, r.payout_id
            ));
        }
        for (what, copies) in [("user", &f.user_copies), ("program", &f.program_copies)] {
            match copies.get(&(net.clone(), id.clone())) {
                None => v.push(format!("{net}: reward {id} has no {what} copy")),
                Some(c) if (c.status, &c.payout_id) != (r.status, &r.payout_id) => v.push(format!(
                    "{net}: reward {id}'s {what} copy is {:?}, the reward {:?}",
                    c.status, r.status
                )),
                Some(_) => {}
            }
        }
    }
    for (k, _) in f.user_copies.iter().chain(&f.program_copies) {
        if !f.canonical.contains_key(k) {
            v.push(format!(
                "{}: a copy of reward {} without the reward",
                k.0, k.1
            ));
        }
    }
    // One payout per reward: each line is exactly the rewards paid in its payout.
    let mut paid: BTreeMap<(String, String, String), (i64, u64)> = BTreeMap::new();
    for ((net, _), r) in &f.canonical {
        // DeSo pays its credits' rewards itself: no Refnet payout has lines for them.
        if r.payout_id.as_deref() == Some(DESO_PAYOUT) {
            continue;
        }
        if let (RewardStatus::Paid, Some(p)) = (r.status, &r.payout_id) {
            let e = paid
                .entry((net.clone(), p.clone(), r.user.clone()))
                .or_default();
            e.0 += r.amount;
            e.1 += 1;
        }
    }
    let lines: BTreeMap<_, _> = f.lines.iter().filter(|(_, l)| l.1 > 0).collect();
    for key in paid.keys().chain(lines.keys().copied()) {
        let (a, b) = (paid.get(key), lines.get(key).copied());
        if a != b {
            v.push(format!(
                "{}: payout {} pays {} {:?} by its rewards, {:?} by its line",
                key.0, key.1, key.2, a, b
            ));
        }
    }
    // Settled balances: every copy of the user counted in the bucket of its status.
    let mut sums: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    let mut unsettled = std::collections::BTreeSet::new();
    for ((net, _), c) in &f.user_copies {
        let key = (net.clone(), c.user.clone());
        let want = bucket(c.status, c.approvable_ns);
        if c.bal.as_deref() != Some(want.as_str()) {
            unsettled.insert(key.clone());
        }
        *sums.entry(key).or_default().entry(want).or_default() += c.amount;
    }
    for key in sums.keys().chain(f.balances.keys()) {
        if unsettled.contains(key) {
            continue;
        }
        let nonzero = |m: Option<&BTreeMap<String, i64>>| -> BTreeMap<String, i64> {
            m.map(|m| {
                m.iter()
                    .filter(|(_, c)| **c != 0)
                    .map(|(b, c)| (b.clone(), *c))
                    .collect()
            })
            .unwrap_or_default()
        };
        let (want, got) = (nonzero(sums.get(key)), nonzero(f.balances.get(key)));
        if want != got {
            v.push(format!(
                "{}: the balance of {} is {got:?}, its rewards sum to {want:?}",
                key.0, key.1
            ));
        }
    }
    report.seen.insert("rewards", f.canonical.len() as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: &str, status: RewardStatus, payout: Option<&str>, bal: Option<&str>) -> RewardFact {
        RewardFact {
            user: "u".into(),
            status,
            amount: 10,
            approvable_ns: 0,
            payout_id: payout.map(str::to_owned),
            derived_id: id.into(),
            bal: bal.map(str::to_owned),
        }
    }

    fn facts_of(r: RewardFact) -> RewardFacts {
        let k = ("n".to_owned(), r.derived_id.clone());
        let mut f = RewardFacts::default();
        f.canonical.insert(k.clone(), r.clone());
        f.user_copies.insert(k.clone(), r.clone());
        f.program_copies.insert(k, r);
        f
    }

    fn violations(f: &RewardFacts) -> Vec<String> {
        let mut r = Report::default();
        check_rewards(f, &mut r);
        r.violations
    }

    #[test]
    fn a_consistent_ledger_passes_and_each_break_is_named() {
        let ok = fact("a", RewardStatus::Paid, Some("p1"), Some("paid"));
        let mut f = facts_of(ok.clone());
        f.lines
            .insert(("n".into(), "p1".into(), "u".into()), (10, 1));
        f.balances.insert(
            ("n".into(), "u".into()),
            BTreeMap::from([("paid".into(), 10)]),
        );
        assert_eq!(violations(&f), Vec::<String>::new());

        let mut wrong_id = f.clone();
        wrong_id
            .canonical
            .get_mut(&("n".into(), "a".into()))
            .unwrap()
            .derived_id = "b".into();
        assert!(violations(&wrong_id)[0].contains("not the id"));

        let mut two_payouts = f.clone();
        two_payouts
            .lines
            .insert(("n".into(), "p2".into(), "u".into()), (10, 1));
        assert!(violations(&two_payouts)
            .iter()
            .any(|x| x.contains("payout p2")));

        let mut drifted = f.clone();
        drifted.balances.insert(
            ("n".into(), "u".into()),
            BTreeMap::from([("paid".into(), 11)]),
        );
        assert!(violations(&drifted)[0].contains("balance"));

        // an unsettled copy is not judged yet
        let mut unsettled = drifted.clone();
        unsettled
            .user_copies
            .get_mut(&("n".into(), "a".into()))
            .unwrap()
            .bal = None;
        assert_eq!(violations(&unsettled), Vec::<String>::new());

        let mut paid_without = facts_of(fact("a", RewardStatus::Paid, None, Some("paid")));
        paid_without.balances = f.balances.clone();
        assert!(!violations(&paid_without).is_empty());
    }
}
