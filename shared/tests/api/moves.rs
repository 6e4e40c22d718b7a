//! Change Referrer and Remove Referrer: moves of small and large subtrees, jobs that survive
//! their worker, races with signups, cycles at any depth. Every test ends with the checker.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};
use shared::domain::NetworkId;

use crate::harness::{email, users, App};
use crate::move_jobs::{broom, link_all};

fn levels(v: &Value) -> Vec<u64> {
    (1..=10)
        .map(|l| v["downline_counts"][l.to_string()].as_u64().unwrap_or(0))
        .collect()
}

#[tokio::test]
async fn a_small_move_rewrites_uplines_and_counts() {
    let app = App::new().await;
    for (u, r) in [
        ("a@x.io", "r1@x.io"),
        ("b@x.io", "a@x.io"),
        ("c@x.io", "b@x.io"),
        ("d@x.io", "a@x.io"),
        ("x@x.io", "r2@x.io"),
    ] {
        assert_eq!(app.link("p", u, r).await.0, 201);
    }
    let (s, v) = app.set_referrer("p", "a@x.io", "x@x.io").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["connection"]["referrer"], "x@x.io");
    assert_eq!(v["connection"]["upline"], json!(["x@x.io", "r2@x.io"]));

    let c = app.connections("p", "c@x.io", "").await;
    assert_eq!(
        users(&c, "upline"),
        ["b@x.io", "a@x.io", "x@x.io", "r2@x.io"]
    );
    let d = app.connections("p", "d@x.io", "").await;
    assert_eq!(users(&d, "upline"), ["a@x.io", "x@x.io", "r2@x.io"]);
    let r1 = app.connections("p", "r1@x.io", "").await;
    assert_eq!(levels(&r1), [0; 10], "the old tree lost them all");
    assert!(users(&r1, "downline").is_empty());
    let x = app.connections("p", "x@x.io", "").await;
    assert_eq!(levels(&x)[..3], [1, 2, 1]);
    let r2 = app.connections("p", "r2@x.io", "").await;
    assert_eq!(levels(&r2)[..4], [1, 1, 2, 1]);

    // the same referrer again changes nothing
    let (s, again) = app.set_referrer("p", "a@x.io", "x@x.io").await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["connection"]["upline"], v["connection"]["upline"]);
    // the checks Add Connection makes
    let (s, e) = app.set_referrer("p", "a@x.io", "a@x.io").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("self_referral"))
    );
    let (s, e) = app.set_referrer("nope", "a@x.io", "x@x.io").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("program_not_found"))
    );
    app.status("bad@x.io", "create_user").await;
    let (s, _) = app.status("bad@x.io", "ban").await;
    assert_eq!(s, 200);
    let (s, e) = app.set_referrer("p", "a@x.io", "bad@x.io").await;
    assert_eq!((s, e["error"]["code"].as_str()), (403, Some("user_banned")));
    // a user with no referrer yet gets one
    let (s, v) = app.set_referrer("p", "r1@x.io", "c@x.io").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["connection"]["upline"][0], "c@x.io");
    app.check().await;
}

#[tokio::test]
async fn cycles_are_refused_at_any_depth() {
    let app = App::new().await;
    // u0 <- u1 <- ... <- u16
    for i in 1..=16 {
        assert_eq!(
            app.link("p", &email("u", i), &email("u", i - 1)).await.0,
            201
        );
    }
    for (who, onto) in [(0, 3), (0, 15), (2, 16), (5, 6)] {
        let (s, v) = app
            .set_referrer("p", &email("u", who), &email("u", onto))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("cycle")),
            "u{who} onto u{onto}: {v}"
        );
        let (s, v) = app.link("p", &email("u", who), &email("u", onto)).await;
        assert_eq!(s, 409, "{v}");
    }
    // A under B while B moves under A: exactly one wins
    for round in 0..5 {
        let a = email(&format!("ra{round}"), 0);
        let b = email(&format!("rb{round}"), 0);
        assert_eq!(
            app.link("p", &email(&format!("ra{round}k"), 0), &a).await.0,
            201
        );
        assert_eq!(
            app.link("p", &email(&format!("rb{round}k"), 0), &b).await.0,
            201
        );
        let (x, y) = tokio::join!(app.set_referrer("p", &a, &b), app.set_referrer("p", &b, &a));
        let wins = [x.0, y.0].iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "round {round}: {x:?} {y:?}");
        let loser = if x.0 == 200 { &y } else { &x };
        assert_eq!(loser.0, 409, "{loser:?}");
        assert!(
            matches!(
                loser.1["error"]["code"].as_str(),
                Some("cycle" | "subtree_busy")
            ),
            "{loser:?}"
        );
    }
    app.check().await;
}

#[tokio::test]
async fn removal_then_a_new_referrer() {
    let app = App::new().await;
    assert_eq!(app.link("p", "a@x.io", "r@x.io").await.0, 201);
    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);
    let (s, v) = app.remove_referrer("p", "a@x.io").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["connection"], Value::Null);
    let a = app.connections("p", "a@x.io", "").await;
    assert_eq!(a["referrer"], Value::Null);
    let b = app.connections("p", "b@x.io", "").await;
    assert_eq!(users(&b, "upline"), ["a@x.io"]);
    let r = app.connections("p", "r@x.io", "").await;
    assert_eq!(levels(&r), [0; 10]);
    let (s, v) = app.remove_referrer("p", "a@x.io").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("not_connected"))
    );
    let (s, v) = app.remove_referrer("p", "never@x.io").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("not_connected"))
    );
    // linked again elsewhere: a backfill, with its referee along
    let (s, v) = app.link("p", "a@x.io", "s@x.io").await;
    assert_eq!(s, 201, "{v}");
    let b = app.connections("p", "b@x.io", "").await;
    assert_eq!(users(&b, "upline"), ["a@x.io", "s@x.io"]);
    let s_view = app.connections("p", "s@x.io", "").await;
    assert_eq!(levels(&s_view)[..2], [1, 1]);
    app.check().await;
}

/// A move too large for one transaction runs as a job; its worker is killed mid-job, a user
/// joins under the moving subtree meanwhile, and the next worker finishes after the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_survives_its_worker() {
    let app = App::new().await;
    crate::stream::run_jobs_by_hand(&app.net);
    link_all(
        &app,
        &[
            ("big@x.io".into(), "old@x.io".into()),
            ("t1@x.io".into(), "t0@x.io".into()),
        ],
        2,
    )
    .await;
    broom(&app, "big@x.io", "j", 60).await;

    let (s, v, location) = app
        .call_for_header(
            "PUT",
            "/networks/{net}/connections/p/users/big@x.io/referrer",
            json!({"connection": "t1@x.io"}),
            "location",
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let id = v["job"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(location, Some(format!("/networks/{}/jobs/{id}", app.net)));
    assert_eq!(v["job"]["status"], "running");
    assert_eq!(v["job"]["moved"], 0);
    // big and its downline as far as the counts have settled; the job counts the rest
    let total = v["job"]["total"].as_u64().unwrap_or(0);
    assert!((1..=121).contains(&total), "{v}");
    // a second move touching the subtree is refused while the job runs
    let (s, e) = app.set_referrer("p", &email("jk", 3), "t0@x.io").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("subtree_busy"))
    );
    let (s, e) = app.remove_referrer("p", "big@x.io").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("subtree_busy"))
    );

    // the worker runs a while and dies holding its lease
    let net = NetworkId::try_from(app.net.as_str()).expect("net");
    let store = &app.state.store;
    let far = shared::store::jobs::now_ms() + 120_000;
    let worker = {
        let (net, id, state) = (net.clone(), id.clone(), app.state);
        tokio::spawn(crate::policy::as_function("move-worker", async move {
            state.store.run_job(&net, &id, far).await
        }))
    };
    let mut moved = 0;
    for _ in 0..600 {
        let (_, j) = app.get(&format!("/networks/{{net}}/jobs/{id}")).await;
        moved = j["job"]["moved"].as_u64().unwrap_or(0);
        if moved > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.abort();
    let _ = worker.await;
    let (_, j) = app.get(&format!("/networks/{{net}}/jobs/{id}")).await;
    assert_eq!(j["job"]["status"], "running", "killed mid-job: {j}");
    assert!(moved > 0 && j["job"]["moved"].as_u64() < Some(121), "{j}");

    // meanwhile a user joins under a member deep in the moving subtree
    let (s, v) = app.link("p", "late@x.io", &email("jg", 7)).await;
    assert_eq!(s, 201, "{v}");

    // the next worker waits out the lease and finishes
    let status = crate::policy::as_function(
        "move-worker",
        store.run_job(&net, &id, shared::store::jobs::now_ms() + 120_000),
    )
    .await
    .expect("the job runs");
    assert_eq!(
        status,
        Some(shared::store::jobs::JobStatus::Done),
        "{:?}",
        app.get(&format!("/networks/{{net}}/jobs/{id}")).await
    );
    let job = app.wait_job(&id).await;
    assert_eq!(job["status"], "done");
    assert!(job["moved"].as_u64() >= Some(121), "{job}");
    assert_eq!(
        job["moved"], job["total"],
        "a done job has moved all it counted"
    );

    let late = app.connections("p", "late@x.io", "").await;
    assert_eq!(
        users(&late, "upline"),
        [
            email("jg", 7),
            email("jk", 7),
            "big@x.io".into(),
            "t1@x.io".into(),
            "t0@x.io".into()
        ]
    );
    let t0 = app.connections("p", "t0@x.io", "").await;
    assert_eq!(levels(&t0)[..5], [1, 1, 60, 60, 1]);
    let old = app.connections("p", "old@x.io", "").await;
    assert_eq!(levels(&old), [0; 10]);
    app.check().await;
}

/// Signups under the members of a subtree while the job moves it: each ends with the upline
/// of the graph as it stands once the job is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_move_racing_signups() {
    let app = App::new().await;
    broom(&app, "mover@x.io", "m", 55).await;
    assert_eq!(app.link("p", "dest@x.io", "top@x.io").await.0, 201);
    let joins = (0..40).map(|i| {
        let app = &app;
        async move {
            tokio::time::sleep(Duration::from_millis(5 * i as u64)).await;
            let under = if i % 2 == 0 {
                email("mk", i)
            } else {
                email("mg", i)
            };
            app.link("p", &email("join", i), &under).await
        }
    });
    let (moved, joined) = tokio::join!(
        app.set_referrer("p", "mover@x.io", "dest@x.io"),
        join_all(joins)
    );
    let (s, v) = moved;
    assert!(s == 200 || s == 202, "{v}");
    if s == 202 {
        let job = app
            .wait_job(v["job"]["id"].as_str().unwrap_or_default())
            .await;
        assert_eq!(job["status"], "done", "{job}");
    }
    for (s, v) in &joined {
        assert_eq!(*s, 201, "{v}");
    }
    for i in [0usize, 1, 20, 39] {
        let j = app.connections("p", &email("join", i), "").await;
        let up = users(&j, "upline");
        assert_eq!(up.last().map(String::as_str), Some("top@x.io"), "{up:?}");
        assert!(up.contains(&"mover@x.io".to_owned()) && up.contains(&"dest@x.io".to_owned()));
    }
    let top = app.connections("p", "top@x.io", "").await;
    assert_eq!(levels(&top)[..4], [1, 1, 55, 55 + 20]);
    app.check().await;
}

/// Last year's referrals, backfilled in a shuffled order: a user with 500 referees, its
/// referrer and its referrer's referrer arrive in any order, and the result is one tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backfill_of_500_referees_in_any_order() {
    let app = App::new().await;
    let mut pairs: Vec<(String, String)> = (0..500)
        .map(|i| (email("fan", i), "hub@x.io".to_owned()))
        .collect();
    pairs.push(("hub@x.io".into(), "mid@x.io".into()));
    pairs.push(("mid@x.io".into(), "head@x.io".into()));
    pairs.push((email("fanchild", 0), email("fan", 0)));
    // a fixed shuffle: the hub's own links land early, middle and late
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    for k in order {
        let (u, r) = &pairs[k];
        loop {
            let (s, v) = app.link("p", u, r).await;
            match s {
                201 => break,
                202 => {
                    let job = app
                        .wait_job(v["job"]["id"].as_str().unwrap_or_default())
                        .await;
                    assert_eq!(job["status"], "done", "{job}");
                    break;
                }
                409 if v["error"]["code"] == "subtree_busy" => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => panic!("{u} -> {r}: {s} {v}"),
            }
        }
    }
    let head = app.connections("p", "head@x.io", "").await;
    assert_eq!(levels(&head)[..4], [1, 1, 500, 1]);
    let child = app.connections("p", &email("fanchild", 0), "").await;
    assert_eq!(
        users(&child, "upline"),
        [
            email("fan", 0),
            "hub@x.io".into(),
            "mid@x.io".into(),
            "head@x.io".into()
        ]
    );
    app.check().await;
}

/// The checker reads what is stored: a lost edge and a cycle written behind the store's back
/// are both reported.
#[tokio::test]
async fn the_checker_finds_a_damaged_table() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use shared::domain::{ProgramId, UserId};
    use shared::store::keys;

    let app = App::new().await;
    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);
    assert_eq!(app.link("p", "c@x.io", "b@x.io").await.0, 201);
    app.check().await;

    let net = NetworkId::try_from(app.net.as_str()).expect("net");
    let prog = ProgramId::try_from("p").expect("prog");
    let id = |u: &str| UserId::from_stored(u).expect("user");
    let report = |app: &App| {
        let (store, net) = (&app.state.store, app.net.clone());
        async move {
            let facts = store.check_facts(Some(&net)).await.expect("scan");
            shared::domain::check::check(&facts)
        }
    };
    // the level-2 edge a -> c goes missing
    let partition = keys::downline_partitions(&net, &prog, &id("a@x.io"));
    let mut deleted = false;
    for pk in partition {
        let got = app
            .client
            .query()
            .table_name(crate::harness::TABLE)
            .key_condition_expression("PK = :pk AND begins_with(SK, :l)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":l", AttributeValue::S(keys::level_prefix(2)))
            .send()
            .await
            .expect("query");
        for item in got.items() {
            app.client
                .delete_item()
                .table_name(crate::harness::TABLE)
                .key("PK", item["PK"].clone())
                .key("SK", item["SK"].clone())
                .send()
                .await
                .expect("delete");
            deleted = true;
        }
    }
    assert!(deleted);
    let r = report(&app).await;
    assert!(
        r.violations
            .iter()
            .any(|v| v.contains("missing edge from a@x.io at level 2")),
        "{r:?}"
    );

    // a's referrer set to c: a cycle
    let (pk, sk) = keys::membership(&net, &prog, &id("a@x.io"));
    app.client
        .update_item()
        .table_name(crate::harness::TABLE)
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk))
        .update_expression("SET referrer = :c")
        .expression_attribute_values(":c", AttributeValue::S("c@x.io".into()))
        .send()
        .await
        .expect("update");
    let r = report(&app).await;
    assert!(r.violations.iter().any(|v| v.contains("cycle")), "{r:?}");
}
