//! Integration tests: the real handlers, real API Gateway events, DynamoDB Local.

mod admin_reads;
mod capped_bursts;
mod harness;
mod idempotency;
mod leaderboard;
pub mod move_jobs;
mod moves;
mod policy;

mod codes;
mod concurrency;
mod connections;
mod console;
mod contention;
mod deso;
mod deso_credits;
mod deso_csv;
mod deso_frontend;
mod deso_hashes;
mod deso_input;
mod programs;
mod receiver;
mod rewards;
mod rewards_lifecycle;
mod robustness;
mod security;
mod self_healing;
mod stream;
mod user_status;
mod vanity_codes;
mod webhooks;
