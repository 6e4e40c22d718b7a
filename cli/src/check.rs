//! `refnet-admin check`: reads the whole table and verifies the invariants.

use shared::domain::check::check;

/// How many violations are printed; the count is always printed.
const SHOWN: usize = 50;

pub async fn run(args: &[&str]) -> Result<(), String> {
    let only = match args {
        [] => None,
        [net] => Some(*net),
        _ => return Err("usage: refnet-admin check [network_id]".into()),
    };
    let state = crate::state().await?;
    let facts = state.store.check_facts(only).await.map_err(crate::err)?;
    let report = check(&facts);
    for (what, n) in &report.seen {
        println!("{what}: {n}");
    }
    for s in &report.skipped {
        println!("skipped {s}: a move is running in it");
    }
    for v in report.violations.iter().take(SHOWN) {
        println!("VIOLATION {v}");
    }
    if report.ok() {
        println!("ok: every invariant holds");
        Ok(())
    } else {
        Err(format!("{} violations", report.violations.len()))
    }
}
