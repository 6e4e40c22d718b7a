//! `refnet-admin jobs` and `cancel-job`: what the move jobs are doing, and a way to stop one.

use shared::domain::NetworkId;
use shared::store::jobs::{now_ms, JobItem};

/// How long `cancel-job` works the job itself before it reports where it stands.
const CANCEL_FOR_MS: u64 = 10 * 60 * 1000;

fn ago(ms: u64, now: u64) -> String {
    if ms == 0 {
        return "never".into();
    }
    format!("{}s ago", now.saturating_sub(ms) / 1000)
}

/// One line per running job: network, id, kind, user, phase, progress, age, last progress.
pub fn line(job: &JobItem, now: u64) -> String {
    let lease = if job.lease_until > now {
        format!("leased {}s more", (job.lease_until - now) / 1000)
    } else {
        "unleased".into()
    };
    format!(
        "{net} {id} {kind} {user} phase={phase:?} moved={moved}/{total} age={age} progress={progress} {lease}{armed}{cancel}",
        net = job.network_id,
        id = job.id,
        kind = job.kind,
        user = job.user,
        phase = job.state,
        moved = job.moved,
        total = job.total,
        age = ago(job.created_ms(), now),
        progress = ago(job.progress_at_ms, now),
        armed = if job.armed { "" } else { " unarmed" },
        cancel = if job.cancel { " cancel-asked" } else { "" },
    )
}

pub async fn list(args: &[&str]) -> Result<(), String> {
    let only = match args {
        [] => None,
        [net] => Some(NetworkId::try_from(*net).map_err(|_| "bad network id")?),
        _ => return Err("usage: refnet-admin jobs [network_id]".into()),
    };
    let state = crate::state().await?;
    let jobs = state
        .store
        .running_jobs(only.as_ref())
        .await
        .map_err(crate::err)?;
    let now = now_ms();
    for j in &jobs {
        println!("{}", line(j, now));
    }
    println!("{} running", jobs.len());
    Ok(())
}

pub async fn cancel(args: &[&str]) -> Result<(), String> {
    let [net, id] = args else {
        return Err("usage: refnet-admin cancel-job <network_id> <job_id>".into());
    };
    let net = NetworkId::try_from(*net).map_err(|_| "bad network id")?;
    let state = crate::state().await?;
    let store = &state.store;
    if !store.request_cancel(&net, id).await.map_err(crate::err)? {
        return Err(format!("job {id} is not running in {net}"));
    }
    // This process works the job as a worker would: once it holds the lease, a job that has
    // changed nothing fails with its fences down, and one that has moved its user finishes,
    // since stopping it halfway would leave members with stale uplines.
    let status = store
        .run_job(&net, id, now_ms() + CANCEL_FOR_MS)
        .await
        .map_err(crate::err)?;
    match store.get_job(&net, id).await.map_err(crate::err)? {
        Some(job) => {
            println!(
                "job {id}: {}{}",
                job.status.as_str(),
                job.reason.map(|r| format!(" ({r})")).unwrap_or_default()
            );
            Ok(())
        }
        None => {
            println!("job {id}: cancelled before its request answered ({status:?})");
            Ok(())
        }
    }
}
