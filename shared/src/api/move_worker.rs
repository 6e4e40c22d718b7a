//! The move worker: carries out move jobs, fed by the table's stream on job items.
//!
//! A job's item changes at every checkpoint, so each step wakes the next; a worker that dies
//! leaves a lease that runs out, and the stream's retry of its batch resumes the job.

use std::collections::BTreeMap;

use futures::StreamExt;
use lambda_http::aws_lambda_events::event::dynamodb::Event;
use lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::{Error, LambdaEvent};

use crate::domain::NetworkId;
use crate::store::jobs::now_ms;
use crate::AppState;

/// How long before the invocation's deadline the worker checkpoints and stops.
const MARGIN_MS: u64 = 5_000;

fn text<'a>(img: &'a serde_dynamo::Item, attr: &str) -> Option<&'a str> {
    match img.get(attr)? {
        serde_dynamo::AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

/// The running jobs among stream records, as (network, job id), each with the sequence
/// numbers of its records.
pub fn running_jobs(event: &Event) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in event
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT" || r.event_name == "MODIFY")
    {
        let img = &r.change.new_image;
        if text(img, "status") != Some("running") {
            continue;
        }
        if let (Some(net), Some(id)) = (text(img, "network_id"), text(img, "id")) {
            out.entry((net.to_owned(), id.to_owned()))
                .or_default()
                .push(r.change.sequence_number.clone().unwrap_or_default());
        }
    }
    out
}

/// When to checkpoint and stop: the deadline is epoch ms on Lambda, while `cargo lambda
/// watch` sends the function's timeout itself, and a test context none.
fn run_until(deadline: u64, now: u64) -> u64 {
    let end = match deadline {
        0 => now + 60_000,
        d if d < now / 2 => now + d,
        d => d,
    };
    end.saturating_sub(MARGIN_MS)
}

/// Jobs one invocation runs side by side; more wait for a slot, each with its share of time.
const AT_ONCE: usize = 8;

/// Each job's deadline: the jobs run `AT_ONCE` at a time, and the invocation's time is shared
/// between the rounds, so no job (of any network) waits behind another for the whole of it.
pub fn slices(jobs: usize, now: u64, until: u64) -> Vec<u64> {
    let rounds = jobs.div_ceil(AT_ONCE).max(1) as u64;
    let share = until.saturating_sub(now) / rounds;
    (0..jobs)
        .map(|i| now + share * (i / AT_ONCE + 1) as u64)
        .collect()
}

crate::lambda::handler!(Stream);

/// A job that stopped short answers its records as failed: the mapping delivers them again
/// and the job resumes from its checkpoint, while the other jobs' records are done.
pub async fn handle(
    state: &AppState,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let now = now_ms();
    let until = run_until(event.context.deadline, now);
    let jobs: Vec<(NetworkId, String, Vec<String>)> = running_jobs(&event.payload)
        .into_iter()
        .filter_map(|((net, id), seqs)| Some((NetworkId::try_from(net.as_str()).ok()?, id, seqs)))
        .collect();
    let deadlines = slices(jobs.len(), now, until);
    let runs = jobs.into_iter().zip(deadlines).map(|((net, id, seqs), until)| async move {
        match state.store.run_job(&net, &id, until).await {
            Ok(status) => {
                tracing::info!(job = %id, ?status, "move job ran");
                Vec::new()
            }
            Err(e) => {
                tracing::error!(job = %id, error = %crate::http::error_chain(&e), "move job stopped; it resumes from its checkpoint");
                seqs
            }
        }
    });
    let failed: Vec<Vec<String>> = futures::stream::iter(runs)
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    Ok(crate::lambda::batch_failures(failed.into_iter().flatten()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_as_lambda_and_as_the_emulator_send_it() {
        let now = 1_795_414_889_880;
        assert_eq!(run_until(now + 900_000, now), now + 900_000 - MARGIN_MS);
        assert_eq!(run_until(600_000, now), now + 600_000 - MARGIN_MS);
        assert_eq!(run_until(0, now), now + 60_000 - MARGIN_MS);
    }

    #[test]
    fn jobs_share_the_invocation_in_rounds() {
        assert!(slices(0, 0, 1000).is_empty());
        assert_eq!(slices(3, 0, 1000), [1000, 1000, 1000]);
        let s = slices(20, 0, 900);
        // three rounds of eight: the first round ends at a third, the last at the deadline
        assert_eq!(s[0], 300);
        assert_eq!(s[7], 300);
        assert_eq!(s[8], 600);
        assert_eq!(s[19], 900);
    }
}
