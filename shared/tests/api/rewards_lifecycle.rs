//! What happens to rewards after they are written: approve, void, reversal and payouts, each
//! ending one way whatever races it.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::harness::App;
use crate::rewards::{chain, event, insert_record, purchases, rewards, rule};

fn ids(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["rewards"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["reward_id"].as_str().unwrap_or_default().to_owned(),
                        r["status"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

async fn reward_of(app: &App, user: &str, event_id: &str) -> Value {
    let v = rewards(app, user).await;
    v["rewards"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["event_id"] == event_id).cloned())
        .unwrap_or(Value::Null)
}

async fn set_status(app: &App, id: &str, verb: &str) -> (u16, Value) {
    app.post(&format!("/networks/{{net}}/rewards/{id}/{verb}"), json!({}))
        .await
}

async fn pay(app: &App, body: Value) -> Value {
    let (s, v) = app.post("/networks/{net}/payouts", body).await;
    assert_eq!(s, 202, "{v}");
    let id = v["payout"]["payout_id"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let (s, v) = app.get(&format!("/networks/{{net}}/payouts/{id}")).await;
        assert_eq!(s, 200, "{v}");
        if v["payout"]["status"] == "done" {
            return v["payout"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("payout {id} did not finish");
}

#[tokio::test]
async fn approve_and_void_follow_the_status_table_and_the_balance_follows() {
    let app = App::new().await;
    chain(&app).await;
    rule(&app, "held", json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 70}], "hold_days": 3})).await;
    assert_eq!(event(&app, "e1", "d@x.io", "purchase", 1).await.0, 202);
    assert_eq!(event(&app, "e2", "d@x.io", "purchase", 1).await.0, 202);
    let c = rewards(&app, "c@x.io").await;
    assert_eq!(
        c["balance"],
        json!({"pending": 140, "approved": 0, "paid": 0, "voided": 0}),
        "{c}"
    );
    let r1 = reward_of(&app, "c@x.io", "e1").await;
    assert_eq!(r1["status"], "pending");
    let id1 = r1["reward_id"].as_str().unwrap().to_owned();
    let id2 = reward_of(&app, "c@x.io", "e2").await["reward_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (s, v) = set_status(&app, &id1, "approve").await;
    assert_eq!(
        (s, v["reward"]["status"].clone()),
        (200, json!("approved")),
        "{v}"
    );
    assert_eq!(
        set_status(&app, &id1, "approve").await.0,
        200,
        "again: no change"
    );
    let (s, v) = app
        .post(
            &format!("/networks/{{net}}/rewards/{id2}/void"),
            json!({"reason": "fraud"}),
        )
        .await;
    assert_eq!(
        (
            s,
            v["reward"]["status"].clone(),
            v["reward"]["reason"].clone()
        ),
        (200, json!("voided"), json!("fraud"))
    );
    assert_eq!(
        set_status(&app, &id2, "void").await.0,
        200,
        "again: no change"
    );
    let (s, v) = set_status(&app, &id2, "approve").await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (409, json!("reward_voided"))
    );
    let c = rewards(&app, "c@x.io").await;
    assert_eq!(
        c["balance"],
        json!({"pending": 0, "approved": 70, "paid": 0, "voided": 70}),
        "{c}"
    );

    // the review queue, oldest first, filtered
    let (s, q) = app
        .get("/networks/{net}/connections/p/rewards?status=voided")
        .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&q), vec![(id2.clone(), "voided".into())]);
    let (_, q) = app.get("/networks/{net}/connections/p/rewards").await;
    let created: Vec<&str> = q["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 2);
    assert!(created[0] <= created[1], "oldest first: {q}");

    // approved by hand before its hold ends: the next payout pays it
    let p = pay(&app, json!({})).await;
    assert_eq!(p["total_usd_cents"], 70, "{p}");

    let (s, v) = set_status(&app, "rw_1111111111111111", "approve").await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("reward_not_found"))
    );
    let (s, _) = set_status(&app, "nope", "approve").await;
    assert_eq!(s, 400);
    let (s, _) = app
        .post(
            &format!("/networks/{{net}}/rewards/{id1}/void"),
            json!({"reason": "x".repeat(501)}),
        )
        .await;
    assert_eq!(s, 400);
    app.check().await;
}

#[tokio::test]
async fn a_payout_pays_each_user_once_above_the_minimum() {
    let app = purchases(
        json!([{"level": 1, "amount_usd_cents": 100}, {"level": 2, "amount_usd_cents": 10}]),
        3,
    )
    .await;
    // c is due 300, b 30: a minimum of 50 pays c only
    let p = pay(&app, json!({"min_amount_usd_cents": 50})).await;
    assert_eq!(
        (p["users"].clone(), p["total_usd_cents"].clone()),
        (json!(1), json!(300)),
        "{p}"
    );
    let id = p["payout_id"].as_str().unwrap();
    let (s, lines) = app
        .get(&format!("/networks/{{net}}/payouts/{id}/lines"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        lines["lines"],
        json!([{"user": "c@x.io", "amount_usd_cents": 300, "rewards": 3}])
    );
    let c = rewards(&app, "c@x.io").await;
    assert_eq!(
        c["balance"],
        json!({"pending": 0, "approved": 0, "paid": 300, "voided": 0}),
        "{c}"
    );
    assert!(c["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "paid" && r["payout_id"] == id));
    assert_eq!(
        rewards(&app, "b@x.io").await["balance"]["approved"],
        30,
        "kept for the next payout"
    );
    // paid is final
    let paid = c["rewards"][0]["reward_id"].as_str().unwrap().to_owned();
    let (s, v) = set_status(&app, &paid, "void").await;
    assert_eq!((s, v["error"]["code"].clone()), (409, json!("reward_paid")));
    // the next payout pays b, and c is in no second payout
    let p2 = pay(&app, json!({})).await;
    assert_eq!(
        (p2["users"].clone(), p2["total_usd_cents"].clone()),
        (json!(1), json!(30)),
        "{p2}"
    );
    let p3 = pay(&app, json!({"program_id": "p"})).await;
    assert_eq!(p3["users"], 0, "nothing due: the payout is made, and done");
    let (s, v) = app
        .post("/networks/{net}/payouts", json!({"program_id": "nope"}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("program_not_found"))
    );
    let (s, _) = app
        .post(
            "/networks/{net}/payouts",
            json!({"min_amount_usd_cents": 0}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, v) = app.get("/networks/{net}/payouts/11111111111").await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("payout_not_found"))
    );
    app.check().await;
}

#[tokio::test]
async fn one_payout_at_a_time_and_races_end_paid_or_voided() {
    let app = purchases(json!([{"level": 1, "amount_usd_cents": 100}]), 40).await;
    let all = rewards(&app, "c@x.io").await;
    let ids: Vec<String> = all["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reward_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 40);
    let (a, b) = tokio::join!(
        app.post("/networks/{net}/payouts", json!({})),
        app.post("/networks/{net}/payouts", json!({}))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [202, 409], "{a:?} {b:?}");
    let started = if a.0 == 202 { a.1 } else { b.1 };
    let id = started["payout"]["payout_id"].as_str().unwrap().to_owned();
    // void and approve the rewards while the payout runs
    let answers = join_all(ids.iter().enumerate().map(|(i, r)| {
        let app = &app;
        async move { set_status(app, r, if i % 2 == 0 { "void" } else { "approve" }).await }
    }))
    .await;
    for (s, v) in &answers {
        assert!(
            *s == 200 || (*s == 409 && v["error"]["code"] == "reward_paid"),
            "{v}"
        );
    }
    let mut payout = Value::Null;
    for _ in 0..600 {
        let (_, v) = app.get(&format!("/networks/{{net}}/payouts/{id}")).await;
        if v["payout"]["status"] == "done" {
            payout = v["payout"].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let c = rewards(&app, "c@x.io").await;
    let (mut paid, mut voided) = (0, 0);
    for r in c["rewards"].as_array().unwrap() {
        match r["status"].as_str() {
            Some("paid") => {
                assert_eq!(r["payout_id"], json!(id));
                paid += 1;
            }
            Some("voided") => voided += 1,
            other => panic!("a reward neither paid nor voided: {other:?}"),
        }
    }
    assert_eq!(paid + voided, 40);
    assert_eq!(payout["total_usd_cents"], json!(paid * 100), "{payout}");
    assert_eq!(
        c["balance"],
        json!({"pending": 0, "approved": 0, "paid": paid * 100, "voided": voided * 100})
    );
    app.check().await;
}

#[tokio::test]
async fn a_payout_worker_killed_mid_job_and_run_twice_pays_once() {
    let app = purchases(
        json!([{"level": 1, "amount_usd_cents": 100}, {"level": 2, "amount_usd_cents": 10}]),
        60,
    )
    .await;
    // the worker is ours: its records are not delivered
    crate::stream::drop_records_matching(Some(&format!("PAY#{}#", app.net)));
    let (s, v) = app.post("/networks/{net}/payouts", json!({})).await;
    assert_eq!(s, 202, "{v}");
    let id = v["payout"]["payout_id"].as_str().unwrap().to_owned();
    let key = (format!("PAY#{}#{id}", app.net), "PAY".to_owned());
    for step in 0..200 {
        let item = app.state.store.get(&key).await.unwrap().unwrap();
        if shared::store::items::text(&item, "status") == Some("done") {
            break;
        }
        let record = insert_record(item);
        if step % 3 == 1 {
            // killed: the step's work is cut short before its checkpoint, then runs again
            let _ = tokio::time::timeout(
                std::time::Duration::from_millis(5),
                app.stream_to("payout-worker", vec![record.clone()]),
            )
            .await;
        }
        // two deliveries of the same record at once
        join_all((0..2).map(|_| app.stream_to("payout-worker", vec![record.clone()]))).await;
    }
    crate::stream::drop_records_matching(None);
    let (_, v) = app.get(&format!("/networks/{{net}}/payouts/{id}")).await;
    assert_eq!(v["payout"]["status"], "done", "{v}");
    assert_eq!(
        (
            v["payout"]["users"].clone(),
            v["payout"]["total_usd_cents"].clone()
        ),
        (json!(2), json!(6600)),
        "{v}"
    );
    let c = rewards(&app, "c@x.io").await;
    assert_eq!(c["balance"]["paid"], 6000, "{c}");
    assert_eq!(rewards(&app, "b@x.io").await["balance"]["paid"], 600);
    app.check().await;
}

#[tokio::test]
async fn a_reversal_voids_what_is_unpaid_and_claws_back_what_is_paid() {
    let app = App::new().await;
    chain(&app).await;
    rule(
        &app,
        "buy",
        json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}]}),
    )
    .await;
    assert_eq!(
        event(&app, "paid-one", "d@x.io", "purchase", 1).await.0,
        202
    );
    app.settle().await;
    pay(&app, json!({})).await;
    assert_eq!(
        event(&app, "open-one", "d@x.io", "purchase", 1).await.0,
        202
    );
    app.settle().await;
    for id in ["paid-one", "open-one", "paid-one"] {
        let (s, v) = app
            .post(
                &format!("/networks/{{net}}/events/{id}/reverse"),
                json!({"reason": "refund"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert!(v["event"]["reversed_at"].is_string());
    }
    app.settle().await;
    let c = rewards(&app, "c@x.io").await;
    assert_eq!(
        c["balance"],
        json!({"pending": 0, "approved": -100, "paid": 100, "voided": 100}),
        "{c}"
    );
    let claw = reward_of(&app, "c@x.io", "paid-one").await;
    let list = c["rewards"].as_array().unwrap();
    let clawbacks: Vec<&Value> = list
        .iter()
        .filter(|r| r["amount_usd_cents"] == -100)
        .collect();
    assert_eq!(clawbacks.len(), 1, "one clawback, reversed twice: {c}");
    assert_eq!(clawbacks[0]["status"], "approved");
    assert!(clawbacks[0]["reverses"].is_string());
    assert!(claw.is_object());
    let (_, ev) = app.get("/networks/{net}/events/open-one").await;
    assert_eq!(ev["event"]["settled"], true);
    assert_eq!(ev["event"]["rewards"][0]["status"], "voided");
    // the clawback is paid against the next payout's sum: nothing left due
    let p = pay(&app, json!({})).await;
    assert_eq!(p["users"], 0, "{p}");
    app.check().await;
}

#[tokio::test]
async fn a_reversal_before_the_rewards_are_written_leaves_nothing_payable() {
    let app = App::new().await;
    chain(&app).await;
    rule(
        &app,
        "buy",
        json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}]}),
    )
    .await;
    let held = format!("EVT#{}#early", app.net);
    crate::stream::drop_records_matching(Some(&held));
    assert_eq!(event(&app, "early", "d@x.io", "purchase", 1).await.0, 202);
    let (s, _) = app
        .post("/networks/{net}/events/early/reverse", json!({}))
        .await;
    assert_eq!(s, 200);
    app.settle().await;
    let (_, ev) = app.get("/networks/{net}/events/early").await;
    assert_eq!(
        ev["event"]["settled"], false,
        "not settled while its rewards are unwritten"
    );
    crate::stream::drop_records_matching(None);
    // the event's first record arrives late
    let mut item = app
        .state
        .store
        .get(&(held, "EVT".into()))
        .await
        .unwrap()
        .unwrap();
    item.remove("reversed_at");
    app.stream_to("derive-rewards", vec![insert_record(item)])
        .await;
    app.settle().await;
    let (_, ev) = app.get("/networks/{net}/events/early").await;
    assert_eq!(ev["event"]["settled"], true, "{ev}");
    assert_eq!(ev["event"]["rewards"][0]["status"], "voided", "{ev}");
    assert_eq!(rewards(&app, "c@x.io").await["balance"]["approved"], 0);
}

#[tokio::test]
async fn a_balance_whose_records_were_lost_is_repaired() {
    let app = App::new().await;
    chain(&app).await;
    rule(
        &app,
        "buy",
        json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}]}),
    )
    .await;
    crate::stream::drop_records_matching(Some(&format!("URWD#{}#", app.net)));
    assert_eq!(event(&app, "lost", "d@x.io", "purchase", 1).await.0, 202);
    app.settle().await;
    crate::stream::drop_records_matching(None);
    assert_eq!(
        rewards(&app, "c@x.io").await["balance"]["approved"],
        0,
        "its record was lost"
    );
    let scope = shared::store::repair::Scope {
        network: Some(shared::domain::NetworkId::try_from(app.net.as_str()).unwrap()),
        program: None,
    };
    // the scheduled repair's window finds the copy in the change index
    let now = shared::clock::now_ms();
    let report = app
        .state
        .store
        .repair_changes(&scope, now - 60_000, now + 1)
        .await
        .unwrap();
    assert_eq!(report.balances, 1, "{report:?}");
    assert_eq!(rewards(&app, "c@x.io").await["balance"]["approved"], 100);
    // run again: nothing left to move
    assert_eq!(
        app.state.store.repair_full(&scope).await.unwrap().balances,
        0
    );
    app.check().await;
}
