//! refnet-admin: table setup, networks and API keys, DeSo tokens, against DynamoDB Local or AWS.

mod alarms;
mod check;
mod demo;
mod demo_hooks;
mod deso;
mod jobs;
mod keys;
mod policies;
mod repair;
mod template;

use std::process::ExitCode;

use shared::{AppState, Config};

const USAGE: &str = "usage: refnet-admin <command>
  create-table                      create the table (TABLE_NAME) unless it exists
  create-network <network_id>       create a network if new, issue an API key and print it once
  revoke-key <network_id> <key|->   delete an API key of the network (- reads it from stdin)
  rotate-key <network_id> <key|->   issue a new key for the network and delete the old one, in
                                    one transaction; prints the new key once
  seed-demo                         local only: table, network 'demo', program 'default', an
                                    API key (REFNET_DEMO_API_KEY, 16+ characters, else
                                    refnet-local-demo-key) and what the sample events name
  events [--issued-at SECS] [FROM TO]
                                    copy the events in FROM (events) to TO (.tools/events) with
                                    their demo JWTs signed afresh, valid for 30 minutes
  check [network_id]                read the whole table (or one network's items) and verify the
                                    invariants: one referrer, no cycle, uplines, edges, counts,
                                    code totals, credits and the ledger; exits 1 on a violation
  jobs [network_id]                 list the running move jobs: phase, progress, age, and how
                                    long since each last advanced
  cancel-job <network_id> <job_id>  cancel a job: one that has changed nothing fails with its
                                    fences lowered; one that has moved its user is finished here,
                                    so every member ends consistent
  repair [--network N] [--program P] [--since T] [--until T] [--full]
                                    hold the downline counts against the edges of the members
                                    whose place changed from T (an RFC 3339 time or a duration
                                    back, default 24h) to now, and fix what drifted; --full reads
                                    every membership and mark instead (a Scan)
  stream-failures [--keys] [function]
                                    the stream batches the consumers gave up on (--keys: the
                                    key of each record in them)
  policy-use <file>                 what the tests saw each function do, against its declared
                                    access: lists the grants no test used
  template                          print template.yaml, generated from the route declaration
  deso-jwt <seed hex> [ttl secs]    the DeSo public key of a 32-byte secret seed, and a JWT signed
                                    with it as DeSo's SDK signs them (no exp when ttl is 0; admin
                                    routes need 1 to 3600)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["deso-jwt", rest @ ..] => deso::jwt(rest),
        ["events", rest @ ..] => demo::events(rest),
        ["check", rest @ ..] => check::run(rest).await,
        ["jobs", rest @ ..] => jobs::list(rest).await,
        ["cancel-job", rest @ ..] => jobs::cancel(rest).await,
        ["repair", rest @ ..] => repair::run(rest).await,
        ["stream-failures", rest @ ..] => repair::failures(rest).await,
        ["policy-use", rest @ ..] => policies::report(rest),
        ["template"] => {
            print!("{}", template::render());
            Ok(())
        }
        other => keys::run(other).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refnet-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn state() -> Result<AppState, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let client = aws_sdk_dynamodb::Client::from_conf(shared::sdk_config().await);
    Ok(AppState::new(config, client))
}

fn err(e: impl std::error::Error) -> String {
    shared::http::error_chain(&e)
}
