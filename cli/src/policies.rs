//! The IAM policy of each function in template.yaml, from its declared access
//! (`shared::policy`): the actions it calls, on the partitions it touches
//! (`dynamodb:LeadingKeys`), and an index only where it queries it.

use std::fmt::Write;

use shared::policy::{access, Action};

fn leading_keys(out: &mut String, prefixes: impl Iterator<Item = &'static str>) {
    let _ = writeln!(
        out,
        "              Condition:\n                ForAllValues:StringLike:\n                  dynamodb:LeadingKeys:"
    );
    for p in prefixes {
        let _ = writeln!(out, "                    - \"{p}*\"");
    }
}

fn statement(out: &mut String, actions: &[Action], resource: &str) {
    let _ = writeln!(out, "            - Effect: Allow\n              Action:");
    for a in actions {
        let _ = writeln!(out, "                - {}", a.iam());
    }
    let _ = writeln!(out, "              Resource: {resource}");
}

pub fn policies(out: &mut String, function: &str) {
    let acc = access(function).unwrap_or_else(|| panic!("no access declared for {function}"));
    let _ = writeln!(
        out,
        "      Policies:\n        - Version: \"2012-10-17\"\n          Statement:"
    );
    let reads: Vec<Action> = acc
        .actions
        .iter()
        .copied()
        .filter(|a| !a.writes())
        .collect();
    let writes: Vec<Action> = acc.actions.iter().copied().filter(|a| a.writes()).collect();
    let mut read_parts: Vec<&str> = acc
        .reads
        .iter()
        .chain(acc.writes)
        .map(|p| p.as_str())
        .collect();
    read_parts.sort();
    read_parts.dedup();
    if !reads.is_empty() {
        statement(out, &reads, "!GetAtt Table.Arn");
        leading_keys(out, read_parts.into_iter());
    }
    if !writes.is_empty() {
        statement(out, &writes, "!GetAtt Table.Arn");
        leading_keys(out, acc.writes.iter().map(|p| p.as_str()));
    }
    if !acc.deletes.is_empty() {
        statement(out, &[Action::DeleteItem], "!GetAtt Table.Arn");
        leading_keys(out, acc.deletes.iter().map(|p| p.as_str()));
    }
    for index in ["GSI1", "GSI2"] {
        let parts: Vec<&str> = acc
            .index
            .iter()
            .filter(|p| p.index() == index)
            .map(|p| p.as_str())
            .collect();
        if !parts.is_empty() {
            statement(
                out,
                &[Action::Query],
                &format!("!Sub \"${{Table.Arn}}/index/{index}\""),
            );
            leading_keys(out, parts.into_iter());
        }
    }
    // The warm-up at init (shared::sdk::warm): a regional call on no table.
    let _ = writeln!(
        out,
        "            - Effect: Allow\n              Action:\n                - dynamodb:DescribeEndpoints\n              Resource: \"*\""
    );
}

/// `policy-use <file>`: what the test suite saw each function do (lines `function action
/// partition`), against what the functions declare. A use outside a declaration fails; a
/// declared grant no test used is listed, to be narrowed or to be tested.
pub fn report(args: &[&str]) -> Result<(), String> {
    use std::collections::BTreeSet;
    let [path] = args else {
        return Err("usage: refnet-admin policy-use <file>".into());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let used: BTreeSet<(String, String, String)> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.into(), w.next()?.into(), w.next()?.into()))
        })
        .collect();
    let mut unused = Vec::new();
    let functions = shared::routes::all_functions();
    for f in functions {
        let acc = access(f).ok_or_else(|| format!("no access declared for {f}"))?;
        let mine: Vec<_> = used.iter().filter(|u| u.0 == f).collect();
        for a in acc.actions {
            if !mine.iter().any(|u| u.1 == a.iam()) {
                unused.push(format!("{f}: {} never called", a.iam()));
            }
        }
        let parts = acc
            .reads
            .iter()
            .chain(acc.writes)
            .map(|p| p.as_str().to_owned())
            .chain(
                acc.index
                    .iter()
                    .map(|p| format!("{}:{}", p.index(), p.as_str())),
            );
        for p in parts.collect::<BTreeSet<_>>() {
            if !mine.iter().any(|u| u.2 == p) {
                unused.push(format!("{f}: {p} never touched"));
            }
        }
        for w in acc.writes {
            let written = mine
                .iter()
                .any(|u| u.2 == w.as_str() && Action::WRITES.iter().any(|a| a.iam() == u.1));
            if !written {
                unused.push(format!("{f}: {} never written", w.as_str()));
            }
        }
    }
    println!(
        "policies: {} uses seen over {} functions; {} declared grants the tests did not use",
        used.len(),
        used.iter().map(|u| &u.0).collect::<BTreeSet<_>>().len(),
        unused.len()
    );
    for u in &unused {
        println!("  {u}");
    }
    Ok(())
}
