//! An event source mapping's delivery contract, as the template configures it on AWS
//! (`shared::routes::STREAM_MAPPING`): a batch that fails is retried with backoff, split in
//! two while it has more than one record (`BisectBatchOnFunctionError`), retried from the
//! first record the function names as failed (`ReportBatchItemFailures`), and given up to the
//! failure destination once a single record has used its retries. Records behind a given-up
//! one are delivered all the same: nothing jams.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use serde_json::{json, Value};

/// The mapping's settings as the local poller applies them.
#[derive(Clone, Copy, Debug)]
pub struct Mapping {
    /// Retries of a batch that can no longer be split.
    pub max_retries: u32,
    pub bisect: bool,
    /// The first retry's wait; each next one doubles it, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Mapping {
    /// The template's mapping, with the backoff of a local run.
    pub fn from_template() -> Mapping {
        let m = shared::routes::STREAM_MAPPING;
        Mapping {
            max_retries: m.max_retries,
            bisect: m.bisect,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }

    fn wait(&self, tries: u32) -> Duration {
        (self.backoff * 2u32.saturating_pow(tries.min(16))).min(self.max_backoff)
    }
}

/// What the function made of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Applied, with the sequence numbers of the records it could not apply (none: all).
    Applied(Vec<String>),
    /// A function error: the whole batch failed.
    Error(String),
}

impl Answer {
    /// A function's JSON answer: its `batchItemFailures`, or an error.
    pub fn of_response(body: &Value) -> Answer {
        if body.get("errorType").is_some() || body.get("errorMessage").is_some() {
            return Answer::Error(body.to_string());
        }
        match body.get("batchItemFailures").and_then(Value::as_array) {
            Some(f) => Answer::Applied(
                f.iter()
                    .map(|x| x["itemIdentifier"].as_str().unwrap_or_default().to_owned())
                    .collect(),
            ),
            None => Answer::Error(format!("an answer without batchItemFailures: {body}")),
        }
    }
}

/// Records the mapping gave up on: what its failure destination receives.
#[derive(Clone, Debug)]
pub struct GivenUp {
    pub records: Vec<Value>,
    pub reason: String,
    pub attempts: u32,
}

fn sequence(r: &Value) -> &str {
    r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default()
}

/// Delivers `records` in order through `invoke` (one batch event at a time), as the mapping
/// would; returns what it gave up.
pub async fn deliver<F, Fut>(mapping: Mapping, records: Vec<Value>, invoke: F) -> Vec<GivenUp>
where
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Answer>,
{
    let mut queue: VecDeque<(Vec<Value>, u32)> = VecDeque::from([(records, 0)]);
    let mut given_up = Vec::new();
    while let Some((batch, tries)) = queue.pop_front() {
        if batch.is_empty() {
            continue;
        }
        let (rest, reason) = match invoke(json!({ "Records": batch })).await {
            Answer::Applied(failed) if failed.is_empty() => continue,
            Answer::Applied(failed) => {
                // From the first record named on: a name it does not know fails it all.
                let from = batch
                    .iter()
                    .position(|r| failed.iter().any(|f| f == sequence(r)))
                    .unwrap_or(0);
                (
                    batch[from..].to_vec(),
                    format!("records failed: {failed:?}"),
                )
            }
            Answer::Error(e) => (batch, e),
        };
        if mapping.bisect && rest.len() > 1 {
            let mut left = rest;
            let right = left.split_off(left.len() / 2);
            queue.push_front((right, tries));
            queue.push_front((left, tries));
        } else if tries < mapping.max_retries {
            tokio::time::sleep(mapping.wait(tries)).await;
            queue.push_front((rest, tries + 1));
        } else {
            given_up.push(GivenUp {
                records: rest,
                reason,
                attempts: tries + 1,
            });
        }
    }
    given_up
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn rec(seq: u32) -> Value {
        json!({ "dynamodb": { "SequenceNumber": seq.to_string() } })
    }

    fn seqs(ev: &Value) -> Vec<String> {
        ev["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| sequence(r).to_owned())
            .collect()
    }

    const FAST: Mapping = Mapping {
        max_retries: 2,
        bisect: true,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
    };

    #[tokio::test]
    async fn a_poison_record_is_given_up_alone_and_the_rest_arrives() {
        let applied = Mutex::new(Vec::new());
        let calls = Mutex::new(0);
        let records: Vec<Value> = (1..=20).map(rec).collect();
        let given = deliver(FAST, records, |ev| {
            let s = seqs(&ev);
            *calls.lock().unwrap() += 1;
            let mut out = Vec::new();
            for q in &s {
                if q == "13" {
                    out.push(q.clone());
                } else {
                    applied.lock().unwrap().push(q.clone());
                }
            }
            async move { Answer::Applied(out) }
        })
        .await;
        assert_eq!(given.len(), 1);
        assert_eq!(seqs(&json!({"Records": given[0].records})), ["13"]);
        assert_eq!(given[0].attempts, 3);
        let mut got: Vec<u32> = applied
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        got.sort();
        got.dedup();
        assert_eq!(got, (1..=20).filter(|s| *s != 13).collect::<Vec<_>>());
        // bounded: a split per halving and the retries of the last record
        assert!(*calls.lock().unwrap() <= 12, "{}", calls.lock().unwrap());
    }

    #[tokio::test]
    async fn a_function_error_bisects_and_a_transient_one_passes() {
        let failures = Mutex::new(3);
        let given = deliver(FAST, (1..=4).map(rec).collect(), |_ev| {
            let mut f = failures.lock().unwrap();
            let a = if *f > 0 {
                *f -= 1;
                Answer::Error("unavailable".into())
            } else {
                Answer::Applied(vec![])
            };
            async move { a }
        })
        .await;
        assert!(given.is_empty());
    }

    #[test]
    fn answers_are_read_as_lambda_reads_them() {
        assert_eq!(
            Answer::of_response(&json!({"batchItemFailures": []})),
            Answer::Applied(vec![])
        );
        assert_eq!(
            Answer::of_response(&json!({"batchItemFailures": [{"itemIdentifier": "7"}]})),
            Answer::Applied(vec!["7".into()])
        );
        assert!(matches!(
            Answer::of_response(&json!({"errorType": "x", "errorMessage": "y"})),
            Answer::Error(_)
        ));
        assert!(matches!(
            Answer::of_response(&Value::Null),
            Answer::Error(_)
        ));
    }
}
