//! `refnet-admin repair` and `stream-failures`: derived counts held against their edges and
//! fixed, and the stream batches the mappings gave up.

use shared::clock::now_ms;
use shared::domain::{NetworkId, ProgramId};
use shared::store::repair::{RepairReport, Scope};

const USAGE: &str =
    "usage: refnet-admin repair [--network N] [--program P] [--since T] [--until T] [--full]";

/// `T`: an RFC 3339 time, or a duration back from now (`90m`, `2h`, `3days`).
fn time_arg(t: &str, now: u64) -> Result<u64, String> {
    if let Ok(at) = humantime::parse_rfc3339_weak(t) {
        return at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .map_err(|_| format!("{t}: before 1970"));
    }
    let back =
        humantime::parse_duration(t).map_err(|_| format!("{t}: not a time or a duration"))?;
    Ok(now.saturating_sub(back.as_millis() as u64))
}

fn print(report: &RepairReport) {
    println!(
        "repair: {} members, {} edges checked; fixed {} (counted {}, taken out {}, count items rewritten {}); {} settled by the aggregator meanwhile",
        report.members,
        report.checked,
        report.fixed(),
        report.added,
        report.removed,
        report.rebuilt,
        report.raced
    );
    if report.balances > 0 {
        println!(
            "repair: {} reward amounts moved into their balances",
            report.balances
        );
    }
    for e in &report.fixed_edges {
        println!("fixed edge {e}");
    }
}

pub async fn run(args: &[&str]) -> Result<(), String> {
    let now = now_ms();
    let mut scope = Scope::default();
    let (mut since, mut until, mut full) = (now.saturating_sub(24 * 3_600_000), now, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--full" => full = true,
            "--network" | "--program" | "--since" | "--until" => {
                let v = it.next().ok_or(USAGE)?;
                match *a {
                    "--network" => {
                        scope.network = Some(NetworkId::try_from(*v).map_err(|_| "bad network id")?)
                    }
                    "--program" => {
                        scope.program = Some(ProgramId::try_from(*v).map_err(|_| "bad program id")?)
                    }
                    "--since" => since = time_arg(v, now)?,
                    _ => until = time_arg(v, now)?,
                }
            }
            _ => return Err(USAGE.into()),
        }
    }
    let state = crate::state().await?;
    let report = if full {
        state.store.repair_full(&scope).await
    } else {
        state.store.repair_changes(&scope, since, until).await
    }
    .map_err(crate::err)?;
    print(&report);
    Ok(())
}

/// `stream-failures [--keys] [function]`: the batches given up, newest last; with `--keys`,
/// the key (`PK SK`) of each record they held.
pub async fn failures(args: &[&str]) -> Result<(), String> {
    let (keys, args) = match args {
        ["--keys", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let functions: Vec<&str> = match args {
        [] => shared::routes::STREAM_FUNCTIONS
            .iter()
            .map(|(f, _)| *f)
            .collect(),
        [f] => vec![*f],
        _ => return Err("usage: refnet-admin stream-failures [--keys] [function]".into()),
    };
    let state = crate::state().await?;
    let mut n = 0;
    for f in functions {
        for g in state.store.stream_failures(f).await.map_err(crate::err)? {
            if keys {
                for k in &g.keys {
                    println!("{k}");
                }
            } else {
                println!("{f} {}", g.line);
            }
            n += 1;
        }
    }
    if !keys {
        println!("{n} given up");
    }
    Ok(())
}
