//! A move of a 10,000-member subtree on DynamoDB Local: the time, transactions, items and
//! write units (2 per item of up to 1 KB) of its job, run unthrottled; the time the default
//! throttle would give it follows from the units. Run with `make bench`.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use shared::domain::{NetworkId, ProgramId, ProgramPatch, UserId};
use shared::store::graph::link::{LinkOutcome, LinkRequest};
use shared::store::jobs::{now_ms, JobStatus};
use shared::{clock, AppState, Config};

/// The subtree: its top, 100 referees, and 99 below each of them.
const KIDS: usize = 100;
const GRANDKIDS: usize = 99;

fn user(prefix: &str, i: usize) -> UserId {
    UserId::from_stored(format!("{prefix}{i}@move.io").as_str()).expect("user")
}

#[tokio::main]
async fn main() {
    let config = Config::from_lookup(|k| match k {
        "TABLE_NAME" => Some("refnet-bench".to_owned()),
        "MOVE_WCU_PER_SEC" => Some("1000000".to_owned()),
        _ => None,
    })
    .expect("config");
    let default_rate = Config::from_lookup(|_| None)
        .expect("defaults")
        .move_wcu_per_sec;
    let client = aws_sdk_dynamodb::Client::from_conf(shared::sdk_config().await);
    let state = AppState::new(config, client);
    let store = &state.store;
    store.ensure_table().await.expect("table");
    let net = NetworkId::try_from(format!("move-{}", clock::now().ns).as_str()).expect("net");
    let prog = ProgramId::try_from("p").expect("prog");
    store
        .upsert_program(&net, &prog, &ProgramPatch::default(), &clock::now().rfc3339)
        .await
        .expect("program");
    let top = user("top", 0);
    let mut pairs: Vec<(UserId, UserId)> = (0..KIDS).map(|k| (user("k", k), top.clone())).collect();
    for k in 0..KIDS {
        for g in 0..GRANDKIDS {
            pairs.push((user(&format!("g{k}-"), g), user("k", k)));
        }
    }
    let built = Instant::now();
    let (n, p) = (&net, &prog);
    let links: Vec<_> = stream::iter(pairs.iter())
        .map(|(u, r)| async move { store.link(&LinkRequest::new(n, p, u, r), None).await })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(links
        .iter()
        .all(|l| matches!(l, Ok(LinkOutcome::Linked { .. }))));
    let members = pairs.len() + 1;
    println!(
        "built a subtree of {members} members in {:.0} s",
        built.elapsed().as_secs_f64()
    );

    let dest = user("dest", 0);
    store
        .link(
            &LinkRequest::new(&net, &prog, &user("destkid", 0), &dest),
            None,
        )
        .await
        .expect("dest");
    let cap = store.capacity();
    let (t0, i0) = cap.transactions();
    let started = Instant::now();
    let job = match store
        .link(&LinkRequest::new(&net, &prog, &top, &dest), None)
        .await
    {
        Ok(LinkOutcome::Job(j)) => j,
        _ => panic!("a subtree this size moves as a job"),
    };
    let accepted = started.elapsed();
    let status = store
        .run_job(&net, &job.id, now_ms() + 3_600_000)
        .await
        .expect("the job runs");
    assert_eq!(status, Some(JobStatus::Done));
    let secs = started.elapsed().as_secs_f64();
    let (t1, i1) = cap.transactions();
    let items = i1 - i0;
    let wcu = 2 * items;
    println!("| members | accepted (202) in | done in | transactions | items | WCU | WCU per member | at the default {default_rate:.0} WCU/s |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {members} | {:.2} s | {secs:.0} s | {} | {items} | {wcu} | {:.1} | {:.0} s |",
        accepted.as_secs_f64(),
        t1 - t0,
        wcu as f64 / members as f64,
        wcu as f64 / default_rate,
    );
}
