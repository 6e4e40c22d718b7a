//! Races, through a conflict proxy: DynamoDB Local runs one transaction at a time, DynamoDB
//! cancels transactions that meet on an item, and the rules must hold either way.

use futures::future::join_all;
use serde_json::json;

use crate::harness::{email, App, Setup};

/// How long the proxy holds a transaction's items: long enough that racers meet.
const HOLD_MS: u64 = 5;

/// Rounds of the race, each on a user of its own, until the racers have met on an item: on a
/// loaded machine one round may run its racers one after the other.
const RACE_ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_referrers_race_for_one_user() {
    let app = App::contended(HOLD_MS).await;
    for round in 0..RACE_ROUNDS {
        let target = format!("target{round}@x.io");
        let referrer = |i: usize| email(&format!("r{round}x"), i);
        let calls = (0..40).map(|i| {
            let (app, target, r) = (&app, &target, referrer(i));
            async move { app.link("p", target, &r).await }
        });
        let results = join_all(calls).await;
        let created: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0 == 201)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(created.len(), 1, "exactly one referrer wins");
        for (i, (s, v)) in results.iter().enumerate() {
            if i != created[0] {
                assert_eq!(
                    (*s, v["error"]["code"].as_str()),
                    (409, Some("already_connected")),
                    "{v}"
                );
            }
        }
        let t = app.connections("p", &target, "").await;
        assert_eq!(t["referrer"], referrer(created[0]).as_str());
        let mut with_downline = 0;
        for i in 0..40 {
            let r = app.connections("p", &referrer(i), "").await;
            with_downline += r["downline_counts"]["1"].as_u64().unwrap();
            assert_eq!(
                r["downline"].as_array().unwrap().len() as u64,
                r["downline_counts"]["1"].as_u64().unwrap()
            );
        }
        assert_eq!(with_downline, 1, "one edge, one count");
        if app.proxy_stats()["conflicts"].as_u64().unwrap_or(0) > 0 {
            break;
        }
    }
    let stats = app.proxy_stats();
    assert!(
        stats["conflicts"].as_u64().unwrap_or(0) > 0,
        "in {RACE_ROUNDS} rounds the racers never met on the user's item: {stats}"
    );
    app.check().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opposite_links_never_both_commit() {
    let app = App::contended(HOLD_MS).await;
    for round in 0..10 {
        let a = email("a", round);
        let b = email("b", round);
        let (x, y) = tokio::join!(app.link("p", &a, &b), app.link("p", &b, &a));
        let wins = [x.0, y.0].iter().filter(|s| **s == 201).count();
        assert_eq!(wins, 1, "round {round}: {x:?} {y:?}");
        let loser = if x.0 == 201 { &y } else { &x };
        assert_eq!(
            (loser.0, loser.1["error"]["code"].as_str()),
            (409, Some("cycle"))
        );
    }
    // a three-way ring: at most two of its links commit
    for round in 0..5 {
        let u: Vec<String> = (0..3).map(|i| email(&format!("t{round}x"), i)).collect();
        let (x, y, z) = tokio::join!(
            app.link("p", &u[0], &u[1]),
            app.link("p", &u[1], &u[2]),
            app.link("p", &u[2], &u[0])
        );
        let wins = [x.0, y.0, z.0].iter().filter(|s| **s == 201).count();
        assert_eq!(wins, 2, "round {round}: {x:?} {y:?} {z:?}");
    }
    app.check().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_first_calls_share_one_code() {
    let app = App::contended(HOLD_MS).await;
    let calls = (0..16).map(|_| app.get("/networks/{net}/connections/p/users/first@x.io/codes"));
    let results = join_all(calls).await;
    let mut seen = std::collections::BTreeSet::new();
    for (s, v) in &results {
        assert_eq!(*s, 200, "{v}");
        assert_eq!(v["codes"].as_array().unwrap().len(), 1, "{v}");
        seen.insert(v["codes"][0]["code"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 1, "one code: {seen:?}");
    let (_, v) = app
        .get("/networks/{net}/connections/p/users/first@x.io/codes")
        .await;
    assert_eq!(v["codes"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_code_never_overshoots() {
    let app = App::with(Setup {
        hold_ms: Some(HOLD_MS),
        ..Setup::default()
    })
    .await;
    app.put(
        "/networks/{net}/connections/p",
        json!({"max_referrals_per_code": 5}),
    )
    .await;
    let (_, v) = app
        .get("/networks/{net}/connections/p/users/owner@x.io/codes")
        .await;
    let code = v["codes"][0]["code"].as_str().unwrap().to_owned();
    let calls = (0..20).map(|i| {
        let app = &app;
        let code = code.clone();
        async move {
            app.post("/networks/{net}/user_status", json!({"user": email("joiner", i), "status_change": "create_user", "referrer": code}))
                .await
        }
    });
    let results = join_all(calls).await;
    let ok = results.iter().filter(|r| r.0 == 201).count();
    assert_eq!(ok, 5, "{results:?}");
    for (s, v) in results.iter().filter(|r| r.0 != 201) {
        assert_eq!(
            (*s, v["error"]["code"].as_str()),
            (409, Some("code_unavailable"))
        );
    }
    let (_, v) = app
        .get("/networks/{net}/connections/p/users/owner@x.io/codes")
        .await;
    assert_eq!(v["codes"][0]["total_referrals"], 5);
    let owner = app.connections("p", "owner@x.io", "").await;
    assert_eq!(owner["downline_counts"]["1"], 5);
    assert_eq!(owner["downline"].as_array().unwrap().len(), 5);
    app.check().await;
}

/// A ban racing the creation of the user's codes leaves no active code behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ban_racing_new_codes_leaves_none_active() {
    let app = App::contended(HOLD_MS).await;
    for round in 0..3 {
        let who = email("racer", round);
        for p in 0..6 {
            app.put(
                &format!("/networks/{{net}}/connections/r{round}p{p}"),
                json!({}),
            )
            .await;
        }
        app.post(
            "/networks/{net}/user_status",
            json!({"user": who, "status_change": "create_user"}),
        )
        .await;
        let codes = (0..6).map(|p| {
            let app = &app;
            let who = who.clone();
            async move {
                app.get(&format!(
                    "/networks/{{net}}/connections/r{round}p{p}/users/{who}/codes"
                ))
                .await
            }
        });
        let ban = app.post(
            "/networks/{net}/user_status",
            json!({"user": who, "status_change": "ban"}),
        );
        let (listed, banned) = tokio::join!(join_all(codes), ban);
        assert_eq!(banned.0, 200, "{:?}", banned.1);
        for (s, v) in &listed {
            assert_eq!(*s, 200, "{v}");
        }
        for p in 0..6 {
            let (_, v) = app
                .get(&format!(
                    "/networks/{{net}}/connections/r{round}p{p}/users/{who}/codes"
                ))
                .await;
            for c in v["codes"].as_array().unwrap() {
                assert_eq!(c["active"], false, "round {round}, program {p}: {v}");
            }
        }
    }
}
