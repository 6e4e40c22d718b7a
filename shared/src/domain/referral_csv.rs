//! The referral CSV of DeSo's admin tools: its header, and the validation of an upload.

use std::collections::HashSet;

use super::ids::DesoNetwork;
use super::{CodeConfig, DesoPublicKey, ReferralCode, UsdCents};

pub const HEADER: [&str; 13] = [
    "ReferralHashBase58",
    "Username",
    "ReferrerPKIDBase58Check",
    "ReferrerAmountUSDCents",
    "RefereeAmountUSDCents",
    "MaxReferrals",
    "RequiresJumio",
    "NumJumioAttempts",
    "NumJumioSuccesses",
    "TotalReferrerDeSoNanos",
    "TotalRefereeDeSoNanos",
    "DateCreatedTStampNanos",
    "IsActive",
];

/// Columns an upload reads; the others may be empty or absent.
const READ: [&str; 8] = [
    "ReferralHashBase58",
    "ReferrerPKIDBase58Check",
    "ReferrerAmountUSDCents",
    "RefereeAmountUSDCents",
    "MaxReferrals",
    "RequiresJumio",
    "DateCreatedTStampNanos",
    "IsActive",
];

pub const MAX_ROWS: usize = 1000;

/// A cell as a spreadsheet can open it safely: one that a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or CR) gets a leading apostrophe.
pub fn safe_cell(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

/// One validated data row. `row` counts from 1, the header being row 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvRow {
    pub row: usize,
    /// None creates a code; Some updates that one.
    pub hash: Option<ReferralCode>,
    pub owner: Option<DesoPublicKey>,
    pub config: CodeConfig,
    pub created_ns: Option<u64>,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {row}: {message}")]
pub struct CsvError {
    pub row: usize,
    pub message: String,
}

fn err(row: usize, message: impl Into<String>) -> CsvError {
    CsvError {
        row,
        message: message.into(),
    }
}

fn parse_bool(row: usize, col: &str, v: &str, empty: Option<bool>) -> Result<bool, CsvError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        "" if empty.is_some() => Ok(empty.unwrap_or(true)),
        _ => Err(err(row, format!("{col} must be true or false"))),
    }
}

fn parse_u64(row: usize, col: &str, v: &str) -> Result<u64, CsvError> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(row, format!("{col} must be a whole number")));
    }
    v.parse()
        .map_err(|_| err(row, format!("{col} is too large")))
}

fn cents(row: usize, col: &str, v: &str) -> Result<UsdCents, CsvError> {
    UsdCents::of(col, parse_u64(row, col, v)?).map_err(|e| err(row, e.to_string()))
}

/// Parses and checks a whole file; the first bad row is the error. Owner keys must be of
/// `network`.
pub fn parse(text: &str, network: DesoNetwork) -> Result<Vec<CsvRow>, CsvError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| err(1, format!("the header is unreadable: {e}")))?
        .clone();
    let mut idx = [0usize; READ.len()];
    for (i, name) in READ.iter().enumerate() {
        idx[i] = headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == *name)
            .ok_or_else(|| err(1, format!("the header lacks the column {name}")))?;
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        if rows.len() == MAX_ROWS {
            return Err(err(
                row,
                format!("a file holds at most {MAX_ROWS} data rows"),
            ));
        }
        let rec = rec.map_err(|e| err(row, format!("unreadable: {e}")))?;
        let get = |k: usize| rec.get(idx[k]).unwrap_or("");
        let hash = match get(0).trim() {
            "" => None,
            h => Some(ReferralCode::hash(h).map_err(|_| {
                err(
                    row,
                    "ReferralHashBase58 must be empty (create) or an 8-character hash (update)",
                )
            })?),
        };
        if let Some(h) = &hash {
            if !seen.insert(h.clone()) {
                return Err(err(row, format!("hash {h} appears twice")));
            }
        }
        let owner = match get(1).trim() {
            "" => None,
            k => Some(
                DesoPublicKey::parse(k, network)
                    .map_err(|e| err(row, format!("ReferrerPKIDBase58Check: {e}")))?,
            ),
        };
        if hash.is_none() && owner.is_none() {
            return Err(err(row, "a new hash needs ReferrerPKIDBase58Check"));
        }
        let created_ns = match get(6).trim() {
            "" => None,
            v => Some(parse_u64(row, "DateCreatedTStampNanos", v)?),
        };
        rows.push(CsvRow {
            row,
            hash,
            owner,
            config: CodeConfig {
                referrer_amount_usd_cents: cents(row, "ReferrerAmountUSDCents", get(2))?,
                referee_amount_usd_cents: cents(row, "RefereeAmountUSDCents", get(3))?,
                max_referrals: parse_u64(row, "MaxReferrals", get(4))?,
                requires_jumio: parse_bool(row, "RequiresJumio", get(5), None)?,
            },
            created_ns,
            active: parse_bool(row, "IsActive", get(7), Some(true))?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_main(text: &str) -> Result<Vec<CsvRow>, CsvError> {
        parse(text, DesoNetwork::Mainnet)
    }

    fn key() -> String {
        let mut payload = crate::domain::ids::DESO_MAINNET_PREFIX.to_vec();
        payload.push(0x03);
        payload.extend_from_slice(&[5u8; 32]);
        bs58::encode(payload).with_check().into_string()
    }

    fn file(rows: &[String]) -> String {
        let mut s = HEADER.join(",");
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s
    }

    fn row(hash: &str, owner: &str, rest: &str) -> String {
        format!("{hash},,{owner},{rest}")
    }

    #[test]
    fn a_downloaded_file_round_trips() {
        let k = key();
        let text = file(&[
            row("", &k, "100,200,10,false,,,,,,"),
            row(
                "abcdefgh",
                "",
                "1,2,0,true,5,4,9,9,1700000000000000000,false",
            ),
        ]);
        let rows = parse_main(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].hash, None);
        assert_eq!(rows[0].owner.as_ref().unwrap().as_str(), k);
        assert!(rows[0].active, "empty IsActive means true");
        assert_eq!(rows[0].created_ns, None);
        assert_eq!(rows[1].hash.as_ref().unwrap().as_str(), "abcdefgh");
        assert_eq!(rows[1].created_ns, Some(1_700_000_000_000_000_000));
        assert!(!rows[1].active);
        assert!(rows[1].config.requires_jumio);
    }

    #[test]
    fn the_first_bad_row_is_named() {
        let k = key();
        let cases = [
            (
                row("", &k, "100001,0,0,false,,,,,,"),
                "ReferrerAmountUSDCents",
            ),
            (row("", &k, "-1,0,0,false,,,,,,"), "whole number"),
            (row("", &k, "1,2,x,false,,,,,,"), "MaxReferrals"),
            (row("", &k, "1,2,3,maybe,,,,,,"), "RequiresJumio"),
            (row("", &k, "1,2,3,false,,,,,,yes"), "IsActive"),
            (row("short", &k, "1,2,3,false,,,,,,"), "8-character"),
            (
                row("", "BC1YLbad", "1,2,3,false,,,,,,"),
                "ReferrerPKIDBase58Check",
            ),
            (
                row("", "", "1,2,3,false,,,,,,"),
                "needs ReferrerPKIDBase58Check",
            ),
            ("only,three,cells".to_owned(), "unreadable"),
        ];
        for (bad, why) in cases {
            let text = file(&[row("", &k, "1,1,1,false,,,,,,"), bad.clone()]);
            let e = parse_main(&text).unwrap_err();
            assert_eq!(e.row, 3, "{bad}");
            assert!(e.message.contains(why), "{bad}: {e}");
        }
        let dup = file(&[
            row("abcdefgh", "", "1,1,1,false,,,,,,"),
            row("abcdefgh", "", "1,1,1,false,,,,,,"),
        ]);
        assert_eq!(parse_main(&dup).unwrap_err().row, 3);
    }

    #[test]
    fn header_and_size() {
        let e = parse_main("ReferralHashBase58,Username\n,").unwrap_err();
        assert_eq!(e.row, 1);
        assert!(e.message.contains("ReferrerPKIDBase58Check"));
        let k = key();
        let many: Vec<String> = (0..=MAX_ROWS)
            .map(|_| row("", &k, "1,1,1,false,,,,,,"))
            .collect();
        let e = parse_main(&file(&many)).unwrap_err();
        assert_eq!(e.row, MAX_ROWS + 2);
        assert!(parse_main(&file(&many[..MAX_ROWS])).is_ok());
        assert_eq!(parse_main(&file(&[])).unwrap(), vec![]);
    }

    #[test]
    fn formulas_never_start_a_cell() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let c = safe_cell(bad.to_owned());
            assert!(c.starts_with('\''), "{bad:?}");
            assert_eq!(&c[1..], bad);
        }
        for fine in ["", "abc", "123", "BC1YLxyz", "true"] {
            assert_eq!(safe_cell(fine.to_owned()), fine);
        }
    }
}
