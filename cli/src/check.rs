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
    let mut facts = state.store.check_facts(only).await.map_err(crate::err)?;
    // Changes younger than this are the fanout's still (default 60 s).
    if let Some(secs) = std::env::var("CHECK_WEBHOOK_SETTLE_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        facts.webhooks.settle_ms = secs * 1000;
    }
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
