//! The leaderboard's rules: periods, what is ranked, competition ranking, and the top list a
//! consumer keeps per (program, period, measure). Pure; the stream consumers feed it.

use std::collections::BTreeMap;

/// Entries the contract promises at least.
pub const TOP: usize = 1_000;
/// Entries a top list keeps: past `TOP`, so that a score that falls leaves the next in line
/// already known.
pub const KEEP: usize = 1_200;

/// The whole history, or one month in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    All,
    Month { year: u16, month: u8 },
}

impl Period {
    /// `all`, or a month `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Period> {
        if s == "all" {
            return Some(Period::All);
        }
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((1970..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(Period::Month { year, month })
    }

    /// The month, in UTC, of a time in ns since the epoch.
    pub fn month_of(ns: u64) -> Period {
        let days = (ns / 86_400_000_000_000) as i64;
        let (year, month, _) = civil_from_days(days);
        Period::Month {
            year: year as u16,
            month: month as u8,
        }
    }

    /// The periods a change at `ns` counts in: the whole history and its month.
    pub fn of_change(ns: u64) -> [Period; 2] {
        [Period::All, Period::month_of(ns)]
    }

    /// The count attribute of a member's direct referees in this period: `c1` for the whole
    /// history, `m<YYYYMM>` for those connected in a month.
    pub fn referrals_attr(self) -> String {
        match self {
            Period::All => "c1".into(),
            Period::Month { year, month } => format!("m{year:04}{month:02}"),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::All => f.write_str("all"),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
        }
    }
}

/// Howard Hinnant's days-to-civil: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What is ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum By {
    /// Direct referees connected in the period.
    Referrals,
    /// Approved and paid reward cents earned in the period.
    Rewards,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        match s {
            "referrals" => Some(By::Referrals),
            "rewards" => Some(By::Rewards),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Referrals => "referrals",
            By::Rewards => "rewards",
        }
    }
}

/// One ranked user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub rank: u64,
    pub user: String,
    pub value: i64,
}

/// Highest value first, ties by user id; only values above 0.
fn ordered(scores: impl IntoIterator<Item = (String, i64)>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = scores.into_iter().filter(|(_, s)| *s > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Competition ranking: ties share a rank and the next rank skips (1, 2, 2, 4).
pub fn rank(scores: impl IntoIterator<Item = (String, i64)>) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = Vec::new();
    for (i, (user, value)) in ordered(scores).into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.value == value => prev.rank,
            _ => i as u64 + 1,
        };
        out.push(Ranked { rank, user, value });
    }
    out
}

/// A top list with some users' new totals merged in, cut at `keep`.
pub fn merge(
    top: Vec<(String, i64)>,
    changed: &BTreeMap<String, i64>,
    keep: usize,
) -> Vec<(String, i64)> {
    let mut all: BTreeMap<String, i64> = top.into_iter().collect();
    for (u, v) in changed {
        all.insert(u.clone(), *v);
    }
    let mut out = ordered(all);
    out.truncate(keep);
    out
}

/// A stored top list of (user, value, version) with members' newer reads merged in: a read
/// older than the entry's (a lower version) never replaces it. Ordered, cut at `keep`.
pub fn merge_versioned(
    top: Vec<(String, i64, u64)>,
    changed: &BTreeMap<String, (i64, u64)>,
    keep: usize,
) -> Vec<(String, i64, u64)> {
    let mut all: BTreeMap<String, (i64, u64)> =
        top.into_iter().map(|(u, v, ver)| (u, (v, ver))).collect();
    for (u, (v, ver)) in changed {
        match all.get(u) {
            Some((_, had)) if had >= ver => {}
            _ => {
                all.insert(u.clone(), (*v, *ver));
            }
        }
    }
    let mut out: Vec<(String, i64, u64)> = all
        .into_iter()
        .filter(|(_, (v, _))| *v > 0)
        .map(|(u, (v, ver))| (u, v, ver))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(keep);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[(&str, i64)]) -> Vec<(String, i64)> {
        v.iter().map(|(u, n)| (u.to_string(), *n)).collect()
    }

    #[test]
    fn periods_parse_and_months_are_utc() {
        assert_eq!(Period::parse("all"), Some(Period::All));
        assert_eq!(
            Period::parse("2026-12"),
            Some(Period::Month {
                year: 2026,
                month: 12
            })
        );
        for bad in [
            "2026-13", "2026-00", "26-12", "2026-1", "2026/12", "", "ALL", "+026-12",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        // 2026-11-30T23:59:59.999Z and 2026-12-01T00:00:00Z
        let end_nov = 1_796_083_199_999_000_000;
        assert_eq!(Period::month_of(end_nov).to_string(), "2026-11");
        assert_eq!(Period::month_of(end_nov + 1_000_000).to_string(), "2026-12");
        assert_eq!(Period::month_of(0).to_string(), "1970-01");
        // a leap day
        assert_eq!(
            Period::month_of(951_782_400_000_000_000).to_string(),
            "2000-02"
        );
        assert_eq!(By::parse("rewards"), Some(By::Rewards));
        assert_eq!(By::parse("Rewards"), None);
    }

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        let r = rank(s(&[
            ("d", 5),
            ("b", 7),
            ("a", 7),
            ("c", 9),
            ("z", 0),
            ("y", -3),
        ]));
        let got: Vec<_> = r
            .iter()
            .map(|e| (e.rank, e.user.as_str(), e.value))
            .collect();
        assert_eq!(
            got,
            vec![(1, "c", 9), (2, "a", 7), (2, "b", 7), (4, "d", 5)]
        );
    }

    #[test]
    fn a_merge_keeps_the_highest_and_drops_what_falls_to_zero() {
        let top = s(&[("a", 5), ("b", 4), ("c", 3)]);
        let changed: BTreeMap<String, i64> = [("b".to_string(), 0), ("d".to_string(), 6)]
            .into_iter()
            .collect();
        assert_eq!(merge(top, &changed, 2), s(&[("d", 6), ("a", 5)]));
    }

    #[test]
    fn an_older_read_never_replaces_a_newer_one() {
        let top = vec![("a".to_string(), 5, 7), ("b".to_string(), 3, 2)];
        let mut changed = BTreeMap::new();
        changed.insert("a".to_string(), (9, 6)); // read before the entry's: ignored
        changed.insert("b".to_string(), (0, 3)); // fell to 0: leaves
        changed.insert("c".to_string(), (5, 1)); // ties a, after it by user id
        let got = merge_versioned(top, &changed, 10);
        assert_eq!(got, vec![("a".to_string(), 5, 7), ("c".to_string(), 5, 1)]);
        assert_eq!(merge_versioned(got, &BTreeMap::new(), 1).len(), 1);
    }
}
