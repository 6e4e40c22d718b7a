//! The move worker: carries out move jobs, fed by the table's stream on job items.
//!
//! A job's item changes at every checkpoint, so each step wakes the next; a worker that dies
//! leaves a lease that runs out, and the stream's retry of its batch resumes the job.

use std::collections::BTreeSet;

use lambda_http::aws_lambda_events::event::dynamodb::Event;
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

/// The running jobs among stream records, as (network, job id).
pub fn running_jobs(event: &Event) -> BTreeSet<(String, String)> {
    event
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT" || r.event_name == "MODIFY")
        .filter_map(|r| {
            let img = &r.change.new_image;
            (text(img, "status")? == "running")
                .then(|| {
                    Some((
                        text(img, "network_id")?.to_owned(),
                        text(img, "id")?.to_owned(),
                    ))
                })
                .flatten()
        })
        .collect()
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

pub async fn handle(state: &AppState, event: LambdaEvent<Event>) -> Result<(), Error> {
    let until = run_until(event.context.deadline, now_ms());
    for (net, id) in running_jobs(&event.payload) {
        let Ok(net) = NetworkId::try_from(net.as_str()) else {
            continue;
        };
        match state.store.run_job(&net, &id, until).await {
            Ok(status) => tracing::info!(job = %id, ?status, "move job ran"),
            Err(e) => {
                tracing::error!(job = %id, error = %crate::http::error_chain(&e), "move job stopped; it resumes from its checkpoint");
                return Err(Error::from("move job stopped"));
            }
        }
    }
    Ok(())
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
}
