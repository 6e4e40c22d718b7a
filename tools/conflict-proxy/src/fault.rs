//! Faults a test aims at one request: a delay, or failures right after it.

/// A fault aimed at the first request of `target` (a DynamoDB operation) whose body holds
/// `contains`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// That request waits `ms` before it is passed on.
    DelayOnce {
        target: String,
        contains: String,
        ms: u64,
    },
    /// Once that request is answered, the next `count` requests of any kind get a 500
    /// `InternalServerError` (a store failing right after a write).
    FailAfter {
        target: String,
        contains: String,
        count: u64,
    },
    /// That request is applied, but its answer is lost: the caller gets a 500, and so do the
    /// next `count` requests of any kind (the caller's retries). A request killed after its
    /// write.
    AnswerLost {
        target: String,
        contains: String,
        count: u64,
    },
}

impl Fault {
    pub(crate) fn aims_at(&self, op: &str, body: &[u8]) -> bool {
        let (target, contains) = match self {
            Fault::DelayOnce {
                target, contains, ..
            }
            | Fault::FailAfter {
                target, contains, ..
            }
            | Fault::AnswerLost {
                target, contains, ..
            } => (target, contains),
        };
        target == op
            && body
                .windows(contains.len().max(1))
                .any(|w| w == contains.as_bytes())
    }
}
