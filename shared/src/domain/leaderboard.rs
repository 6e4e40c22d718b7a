//! The leaderboard's rules: periods, what is ranked, competition ranking, and the top list a
//! consumer keeps per (program, period, measure). Pure; the stream consumers feed it.

use std::collections::BTreeMap;

use super::reward::HOUR_NS;

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
        // Any year the form allows: a month before the first connection is an empty board.
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        (1..=12)
            .contains(&month)
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

    /// `YYYYMM` of a month; None for the whole history.
    pub fn digits(self) -> Option<String> {
        match self {
            Period::All => None,
            Period::Month { year, month } => Some(format!("{year:04}{month:02}")),
        }
    }

    /// The month of `YYYYMM`, as `digits` writes it.
    pub fn from_digits(d: &str) -> Option<Period> {
        let (y, m) = (d.get(..4)?, d.get(4..)?);
        Period::parse(&format!("{y}-{m}"))
    }

    /// The month a count attribute `m<YYYYMM>` holds the direct referees of.
    pub fn of_referrals_attr(attr: &str) -> Option<Period> {
        attr.strip_prefix('m').and_then(Period::from_digits)
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

/// One member of a stored top list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BoardEntry {
    pub u: String,
    /// The value when it was read.
    pub v: i64,
    /// The member's source versions summed, when it was read: a read with a lower sum is older.
    pub ver: u64,
    /// Cents that count from an hour on (held rewards), as (hour since the epoch, cents).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pend: Vec<(u64, i64)>,
}

impl BoardEntry {
    /// The value once every held amount counts: what the list is kept in order of.
    fn potential(&self) -> i64 {
        self.v + self.pend.iter().map(|(_, c)| c).sum::<i64>()
    }

    /// The value at `now_ns`: held amounts whose hour has come count.
    pub fn value_at(&self, now_ns: u64) -> i64 {
        let due = self
            .pend
            .iter()
            .filter(|(h, _)| h.saturating_mul(HOUR_NS) <= now_ns)
            .map(|(_, c)| c);
        self.v + due.sum::<i64>()
    }

    /// The same entry with what counts by `now_ns` moved from held into its value.
    pub fn settled(self, now_ns: u64) -> BoardEntry {
        let v = self.value_at(now_ns);
        let pend = self
            .pend
            .into_iter()
            .filter(|(h, c)| h.saturating_mul(HOUR_NS) > now_ns && *c != 0)
            .collect();
        BoardEntry { v, pend, ..self }
    }
}

/// A stored top list with members' newer reads merged in: a read older than the entry's (a
/// lower version) never replaces it. Ordered by potential value, ties by user id, values
/// above 0 only, cut at `keep`.
pub fn merge_entries(
    top: Vec<BoardEntry>,
    changed: Vec<BoardEntry>,
    keep: usize,
) -> Vec<BoardEntry> {
    let mut all: BTreeMap<String, BoardEntry> = top.into_iter().map(|e| (e.u.clone(), e)).collect();
    for e in changed {
        match all.get(&e.u) {
            Some(had) if had.ver >= e.ver => {}
            _ => {
                all.insert(e.u.clone(), e);
            }
        }
    }
    let mut out: Vec<BoardEntry> = all.into_values().filter(|e| e.potential() > 0).collect();
    out.sort_by(|a, b| {
        b.potential()
            .cmp(&a.potential())
            .then_with(|| a.u.cmp(&b.u))
    });
    out.truncate(keep);
    out
}

/// A stored list ranked by its values at `now_ns`.
pub fn rank_at(entries: &[BoardEntry], now_ns: u64) -> Vec<Ranked> {
    rank(entries.iter().map(|e| (e.u.clone(), e.value_at(now_ns))))
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
        // the spec's pattern takes any four digits (the fuzzer sent 0263-02)
        assert_eq!(
            Period::parse("0263-02").map(|p| p.to_string()),
            Some("0263-02".into())
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
        let top = vec![
            entry("a", 5, 1, &[]),
            entry("b", 4, 1, &[]),
            entry("c", 3, 1, &[]),
        ];
        let changed = vec![entry("b", 0, 2, &[]), entry("d", 6, 1, &[])];
        let got = merge_entries(top, changed, 2);
        assert_eq!(got, vec![entry("d", 6, 1, &[]), entry("a", 5, 1, &[])]);
    }

    fn entry(u: &str, v: i64, ver: u64, pend: &[(u64, i64)]) -> BoardEntry {
        BoardEntry {
            u: u.into(),
            v,
            ver,
            pend: pend.to_vec(),
        }
    }

    #[test]
    fn an_older_read_never_replaces_a_newer_one() {
        let top = vec![entry("a", 5, 7, &[]), entry("b", 3, 2, &[])];
        let changed = vec![
            entry("a", 9, 6, &[]), // read before the entry's: ignored
            entry("b", 0, 3, &[]), // fell to 0: leaves
            entry("c", 5, 1, &[]), // ties a, after it by user id
        ];
        let got = merge_entries(top, changed, 10);
        assert_eq!(got, vec![entry("a", 5, 7, &[]), entry("c", 5, 1, &[])]);
        assert_eq!(merge_entries(got, vec![], 1).len(), 1);
    }

    #[test]
    fn held_amounts_count_from_their_hour() {
        let h = 500_000u64; // an hour since the epoch
        let list = vec![entry("a", 100, 1, &[(h, 300)]), entry("b", 200, 1, &[])];
        // before the hour: a's 300 is held, and a ranks below b
        let before = rank_at(&list, h * HOUR_NS - 1);
        assert_eq!((before[0].user.as_str(), before[0].value), ("b", 200));
        assert_eq!((before[1].user.as_str(), before[1].value), ("a", 100));
        // from the hour on it counts
        let after = rank_at(&list, h * HOUR_NS);
        assert_eq!((after[0].user.as_str(), after[0].value), ("a", 400));
        // settling moves what counted into the value
        let settled = list[0].clone().settled(h * HOUR_NS);
        assert_eq!((settled.v, settled.pend.len()), (400, 0));
        // a member whose only amount is held is kept, with nothing counted yet
        let kept = merge_entries(vec![], vec![entry("c", 0, 1, &[(h, 5)])], 10);
        assert_eq!(kept.len(), 1);
        assert!(rank_at(&kept, 0).is_empty());
    }
}
