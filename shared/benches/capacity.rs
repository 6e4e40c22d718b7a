//! The write capacity of a signup: the items of its transaction at depths 1, 5 and 10, with
//! and without a code, and the stream aggregator's items for the same signups, counted from the
//! transactions sent. Write units follow DynamoDB's pricing of transactions: 2 per item of up
//! to 1 KB (every item here is smaller). DynamoDB Local's `ReturnConsumedCapacity` is printed
//! beside them: it reports 2 units per transaction whatever its size. Run with `make bench`.

use shared::domain::{CodeConfig, NetworkId, ProgramId, ProgramPatch, UsdCents, UserId};
use shared::store::aggregate::EdgeChange;
use shared::store::codes::CreateOutcome;
use shared::store::graph::link::LinkRequest;
use shared::store::keys;
use shared::{clock, AppState, Config};

/// Signups per measurement, as in one stream batch of the aggregator.
const M: usize = 100;

fn user(prefix: &str, i: usize) -> UserId {
    UserId::from_stored(format!("{prefix}{i}@cap.io").as_str()).expect("user")
}

/// Write units and (transactions, items) consumed by `f`.
async fn measure<F: std::future::Future<Output = ()>>(state: &AppState, f: F) -> (f64, u64, u64) {
    let cap = state.store.capacity();
    let (u0, (t0, i0)) = (cap.units(), cap.transactions());
    f.await;
    let (t1, i1) = cap.transactions();
    (cap.units() - u0, t1 - t0, i1 - i0)
}

#[tokio::main]
async fn main() {
    let config = Config::from_lookup(|k| (k == "TABLE_NAME").then(|| "refnet-bench".to_owned()))
        .expect("config");
    let client = aws_sdk_dynamodb::Client::from_conf(shared::sdk_config().await);
    let state = AppState::new(config, client);
    let store = &state.store;
    store.ensure_table().await.expect("table");
    let net = NetworkId::try_from(format!("cap-{}", clock::now().ns).as_str()).expect("net");
    let prog = ProgramId::try_from("p").expect("prog");
    store
        .upsert_program(&net, &prog, &ProgramPatch::default(), &clock::now().rfc3339)
        .await
        .expect("program");
    // chain i sits at depth i: a signup under chain d-1 is at depth d
    for i in 1..10 {
        store
            .link(
                &LinkRequest::new(&net, &prog, &user("chain", i), &user("chain", i - 1)),
                None,
            )
            .await
            .expect("chain");
    }
    let cents = UsdCents::of("bench", 1).expect("cents");
    println!("| signup | transaction items | WCU | DynamoDB Local's figure | aggregator items (WCU), one tree | aggregator items (WCU), unrelated trees |");
    println!("|---|---|---|---|---|---|");
    for depth in [1usize, 5, 10] {
        let parent = user("chain", depth - 1);
        let code = match store
            .create_code(
                &net,
                &prog,
                &parent,
                CodeConfig {
                    referrer_amount_usd_cents: cents,
                    referee_amount_usd_cents: cents,
                    max_referrals: 0,
                    requires_jumio: false,
                },
            )
            .await
            .expect("code")
        {
            CreateOutcome::Created(c) => c.code,
            _ => panic!("no code"),
        };
        // a first referee, so that the parent's membership is not part of what is measured
        store
            .link(
                &LinkRequest::new(&net, &prog, &user(&format!("first{depth}-"), 0), &parent),
                None,
            )
            .await
            .expect("first");
        for with_code in [false, true] {
            let tag = format!("d{depth}c{}-", u8::from(with_code));
            let (wcu, txs, items) = measure(&state, async {
                for i in 0..M {
                    let u = user(&tag, i);
                    let req = LinkRequest {
                        code: with_code.then_some(&code),
                        ..LinkRequest::new(&net, &prog, &u, &parent)
                    };
                    store.link(&req, None).await.expect("link");
                }
            })
            .await;
            // The aggregator's share: the same signups' edges as one stream batch, in one tree
            // (the ancestors are shared) and in unrelated trees (each signup its own).
            let change = |ancestor: UserId, level: usize, member: UserId| {
                let at_ns = clock::now().ns;
                EdgeChange {
                    edge: keys::downline_edge(&net, &prog, &ancestor, level as u8, at_ns, &member),
                    network: net.clone(),
                    program: prog.clone(),
                    ancestor,
                    level: level as u8,
                    delta: 1,
                    at_ns,
                }
            };
            let mut batches = Vec::new();
            for shared_tree in [true, false] {
                let changes: Vec<EdgeChange> = (0..M)
                    .flat_map(|i| (1..=depth).map(move |l| (i, l)))
                    .map(|(i, l)| {
                        let a = if shared_tree {
                            user("chain", depth - l)
                        } else {
                            user(&format!("{tag}t{i}-"), l)
                        };
                        change(a, l, user(&format!("{tag}m{shared_tree}-"), i))
                    })
                    .collect();
                let id = format!("{tag}{shared_tree}-{}", clock::now().ns);
                let (_, _, agg) = measure(&state, async {
                    store
                        .apply_edge_changes(&changes, &id)
                        .await
                        .expect("aggregate");
                })
                .await;
                batches.push(agg as f64 / M as f64);
            }
            let per_tx = items as f64 / txs.max(1) as f64;
            println!(
                "| depth {depth}{} | {per_tx:.0} | {:.0} | {:.1} | {:.2} ({:.2}) | {:.2} ({:.2}) |",
                if with_code { ", through a code" } else { "" },
                2.0 * per_tx,
                wcu / M as f64,
                batches[0],
                2.0 * batches[0],
                batches[1],
                2.0 * batches[1],
            );
        }
    }
}
