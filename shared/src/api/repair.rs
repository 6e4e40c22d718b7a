//! The scheduled repair: the counts held against the memberships that changed since the last
//! run (`store::repair`), and the move jobs that stopped advancing, each woken if no worker
//! holds it. Its metrics (fixes, and stalled jobs) feed the template's alarms.

use lambda_http::{Error, LambdaEvent};
use serde_json::{json, Value};

use crate::clock;
use crate::store::repair::{RepairReport, RepairState, Scope};
use crate::AppState;

/// The look-back of a first run: what a stream keeps.
pub const FIRST_LOOK_BACK_MS: u64 = 24 * 3_600_000;
/// The most one run covers; the next run goes on from there.
pub const MAX_WINDOW_MS: u64 = 6 * 3_600_000;

/// The window a run repairs: from where the last stopped (a day back at first), up to the
/// settle age before now, at most `MAX_WINDOW_MS`.
pub fn window(through_ms: Option<u64>, now_ms: u64, settle_ms: u64) -> (u64, u64) {
    let to = now_ms.saturating_sub(settle_ms);
    let from = through_ms.unwrap_or_else(|| to.saturating_sub(FIRST_LOOK_BACK_MS));
    (from, to.min(from + MAX_WINDOW_MS).max(from))
}

/// Whether a running job last advanced (or was made, if it never did) over `after_ms` ago.
pub fn stalled(progress_at_ms: u64, created_ms: u64, now_ms: u64, after_ms: u64) -> bool {
    now_ms.saturating_sub(progress_at_ms.max(created_ms)) > after_ms
}

crate::lambda::handler!(Scheduled);

pub async fn handle(state: &AppState, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    let now = clock::now_ms();
    let fail = |what: &'static str| {
        move |e: crate::store::StoreError| {
            tracing::error!(error = %crate::http::error_chain(&e), "{what}");
            Error::from(what)
        }
    };
    let saved = state
        .store
        .repair_state()
        .await
        .map_err(fail("repair state not read"))?;
    let (from, to) = window(
        saved.map(|s| s.through_ms),
        now,
        state.config.repair_settle.as_millis() as u64,
    );
    let report: RepairReport = state
        .store
        .repair_changes(&Scope::default(), from, to)
        .await
        .map_err(fail("repair stopped; the next run covers the window again"))?;
    state
        .store
        .save_repair_state(&RepairState {
            through_ms: to,
            last: report.clone(),
        })
        .await
        .map_err(fail("repair state not saved"))?;
    let jobs = state
        .store
        .running_jobs(None)
        .await
        .map_err(fail("running jobs not read"))?;
    let after = state.config.job_stalled_after.as_millis() as u64;
    let stalled_jobs: Vec<&str> = jobs
        .iter()
        .filter(|j| stalled(j.progress_at_ms, j.created_ms(), now, after))
        .map(|j| j.id.as_str())
        .collect();
    let mut woken = 0u64;
    for j in jobs
        .iter()
        .filter(|j| stalled_jobs.contains(&j.id.as_str()))
    {
        let woke = state
            .store
            .wake_job(j, now)
            .await
            .map_err(fail("a stalled job not woken"))?;
        woken += u64::from(woke);
        tracing::warn!(job = %j.id, woke, "a move job has not advanced; see refnet-admin jobs");
    }
    tracing::info!(
        from,
        to,
        ?report,
        stalled = stalled_jobs.len(),
        "repair ran"
    );
    println!(
        "{}",
        crate::telemetry::metrics_line(
            &[
                ("RepairFixes", report.fixed()),
                ("RepairRaced", report.raced),
                ("RepairMembers", report.members),
                ("StalledJobs", stalled_jobs.len() as u64),
                ("WokenJobs", woken),
            ],
            now,
        )
    );
    Ok(json!({
        "from_ms": from,
        "through_ms": to,
        "report": report,
        "stalled_jobs": stalled_jobs,
        "woken_jobs": woken,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_covers_what_settled_since_the_last() {
        let h = 3_600_000;
        // first run: a day back, capped to the window
        assert_eq!(
            window(None, 100 * h, 300_000),
            (100 * h - 300_000 - 24 * h, 100 * h - 300_000 - 18 * h)
        );
        // then from where it stopped to the settle age
        assert_eq!(
            window(Some(99 * h), 100 * h, 300_000),
            (99 * h, 100 * h - 300_000)
        );
        // nothing settled yet: an empty window
        assert_eq!(window(Some(100 * h), 100 * h, 300_000), (100 * h, 100 * h));
    }

    #[test]
    fn a_job_is_stalled_after_its_last_progress_or_its_creation() {
        assert!(!stalled(1_000, 0, 2_000, 5_000));
        assert!(stalled(1_000, 0, 10_000, 5_000));
        assert!(!stalled(0, 9_000, 10_000, 5_000));
    }
}
