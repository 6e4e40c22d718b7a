//! Derived counts that heal: a poison record given up while the rest of its batch arrives,
//! records the stream lost repaired, and a repair racing the aggregator.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use shared::domain::{NetworkId, ProgramId};
use shared::store::repair::{RepairReport, Scope};

use crate::harness::{email, App};
use crate::policy::as_function;

fn scope(app: &App) -> Scope {
    Scope {
        network: Some(NetworkId::try_from(app.net.as_str()).unwrap()),
        program: Some(ProgramId::try_from("p").unwrap()),
    }
}

/// The repair over this network's changes since `from_ms`, as the repair function runs it.
async fn repair(app: &App, from_ms: u64) -> RepairReport {
    let now = shared::clock::now_ms() + 1;
    as_function(
        "repair",
        app.state.store.repair_changes(&scope(app), from_ms, now),
    )
    .await
    .expect("the repair runs")
}

fn level(v: &serde_json::Value, l: u8) -> u64 {
    v["downline_counts"][l.to_string()].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn lost_records_leave_counts_wrong_until_the_repair_fixes_them() {
    let app = App::new().await;
    let t0 = shared::clock::now_ms();
    let boss = email("boss", 0);
    app.link("p", &email("mid", 0), &boss).await;
    app.settle().await;
    // Every edge record of this network is lost from here on.
    crate::stream::drop_records_matching(Some(&format!("DOWN#{}#", app.net)));
    let joins = (0..6).map(|i| {
        let app = &app;
        async move { app.link("p", &email("r", i), &email("mid", 0)).await }
    });
    for (s, v) in join_all(joins).await {
        assert_eq!(s, 201, "{v}");
    }
    let (s, v) = app.remove_referrer("p", &email("mid", 0)).await;
    assert!(s == 200 || s == 202, "{v}");
    app.settle().await;
    crate::stream::drop_records_matching(None);
    // The counts missed all of it: mid's six referees, and boss still counts mid's tree.
    let mid = app.connections("p", &email("mid", 0), "").await;
    assert_eq!(level(&mid, 1), 0, "{mid}");
    let b = app.connections("p", &boss, "").await;
    assert_eq!(level(&b, 1), 1, "{b}");

    let report = repair(&app, t0).await;
    assert_eq!(report.added, 6, "{report:?}");
    assert_eq!(report.removed, 1, "boss's edge to mid: {report:?}");
    let mid = app.connections("p", &email("mid", 0), "").await;
    assert_eq!(level(&mid, 1), 6, "{mid}");
    let b = app.connections("p", &boss, "").await;
    assert_eq!(level(&b, 1), 0, "{b}");
    // A second run finds nothing left to fix.
    let again = repair(&app, t0).await;
    assert_eq!(again.fixed(), 0, "{again:?}");
    app.check().await;
}

#[tokio::test]
async fn a_repair_racing_the_aggregator_never_makes_a_right_count_wrong() {
    let app = App::new().await;
    let t0 = shared::clock::now_ms();
    let top = email("top", 0);
    // The repair runs over the same changes as they commit, before the aggregator has them.
    let done = std::sync::atomic::AtomicBool::new(false);
    let repairs = || async {
        let mut total = RepairReport::default();
        // On while the burst runs, and a few runs after, while the aggregator catches up.
        let mut after = 0;
        while after < 4 {
            total.add(&repair(&app, t0).await);
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                after += 1;
            }
        }
        total
    };
    // Ten under top, then thirty under those ten.
    for wave in [0..10, 10..40] {
        let burst = wave.map(|i| {
            let app = &app;
            let referrer = if i < 10 {
                top.clone()
            } else {
                email("m", i % 10)
            };
            async move { app.link("p", &email("m", i), &referrer).await }
        });
        done.store(false, std::sync::atomic::Ordering::SeqCst);
        let burst = async {
            let answers = join_all(burst).await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            answers
        };
        let (answers, total) = tokio::join!(burst, repairs());
        eprintln!("repair beside the burst: {total:?}");
        for (s, v) in answers {
            assert_eq!(s, 201, "{v}");
        }
    }
    // And while some leave.
    let leaves = (30..40).map(|i| {
        let app = &app;
        async move { app.remove_referrer("p", &email("m", i)).await }
    });
    let (left, _) = tokio::join!(join_all(leaves), repair(&app, t0));
    for (s, v) in left {
        assert!(s == 200 || s == 202, "{v}");
    }
    app.settle().await;
    let t = app.connections("p", &top, "").await;
    assert_eq!(level(&t, 1), 10, "{t}");
    assert_eq!(level(&t, 2), 20, "{t}");
    // Whatever each fixed, nothing was counted twice, and nothing is left to fix.
    let after = repair(&app, t0).await;
    assert_eq!(after.fixed(), 0, "{after:?}");
    app.check().await;
}

#[tokio::test]
async fn a_poison_record_is_given_up_and_the_rest_of_its_batch_arrives() {
    let app = App::new().await;
    let t0 = shared::clock::now_ms();
    let (good, bad) = (email("good", 0), email("bad", 0));
    // bad's count items are corrupt: the aggregator cannot add to them.
    for shard in 0..shared::domain::shards::COUNT_SHARDS {
        app.client
            .put_item()
            .table_name(crate::harness::TABLE)
            .item(
                "PK",
                AttributeValue::S(format!("CNT#{}#p#{bad}#{shard}", app.net)),
            )
            .item("SK", AttributeValue::S("CNT".into()))
            .item("c1", AttributeValue::S("corrupt".into()))
            .send()
            .await
            .expect("written");
    }
    let burst = (0..21).map(|i| {
        let app = &app;
        let referrer = if i == 10 { bad.clone() } else { good.clone() };
        async move { app.link("p", &email("u", i), &referrer).await }
    });
    for (s, v) in join_all(burst).await {
        assert_eq!(s, 201, "{v}");
    }
    app.settle().await;
    // Every other record's effect arrived.
    let g = app.connections("p", &good, "").await;
    assert_eq!(level(&g, 1), 20, "{g}");
    // The poison one is in the failure destination, alone.
    // (read as an operator reads it, with refnet-admin stream-failures)
    let given_up = app
        .state
        .store
        .stream_failures("aggregate-counts")
        .await
        .expect("reads");
    let poison = format!("DOWN#{}#p#{bad}#", app.net);
    let mine: Vec<_> = given_up
        .iter()
        .filter(|g| g.keys.iter().any(|k| k.starts_with(&poison)))
        .collect();
    assert_eq!(mine.len(), 1, "{given_up:?}");
    assert_eq!(mine[0].keys.len(), 1, "given up alone: {:?}", mine[0]);
    // The repair covers what it left: bad's counts rewritten from the marks, and its edge.
    let report = repair(&app, t0).await;
    assert_eq!(report.added, 1, "{report:?}");
    assert_eq!(report.rebuilt, 1, "{report:?}");
    assert!(report.fixed_edges[0].starts_with(&poison), "{report:?}");
    let b = app.connections("p", &bad, "").await;
    assert_eq!(level(&b, 1), 1, "{b}");
    app.check().await;
}

#[tokio::test]
async fn the_scheduled_repair_covers_what_settled_and_saves_where_it_stopped() {
    let app = App::new().await;
    let event = lambda_http::LambdaEvent::new(
        serde_json::from_str(include_str!("../../../events/repair.json")).expect("the event"),
        lambda_http::Context::default(),
    );
    let before = shared::clock::now_ms();
    let out = as_function("repair", shared::api::repair::handle(app.state, event))
        .await
        .expect("the repair runs");
    let settle = app.state.config.repair_settle.as_millis() as u64;
    let through = out["through_ms"].as_u64().expect("through_ms");
    assert!(
        through <= before.max(shared::clock::now_ms()) - settle + 1,
        "{out}"
    );
    assert!(
        out["from_ms"].as_u64().expect("from_ms") <= through,
        "{out}"
    );
    assert!(out["stalled_jobs"].is_array(), "{out}");
    let saved = as_function("repair", app.state.store.repair_state())
        .await
        .expect("reads")
        .expect("saved");
    // Runs of other tests may have gone further; never back.
    assert!(saved.through_ms >= through, "{saved:?} {out}");
}
