//! Program rules and rewards: events earn for the upline as it stood at acceptance, ten
//! levels deep, exactly once whatever retries, redeliveries or concurrent calls happen.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::harness::App;

pub async fn rule(app: &App, id: &str, body: Value) -> (u16, Value) {
    app.put(
        &format!("/networks/{{net}}/connections/p/rules/{id}"),
        json!({ "rule": body }),
    )
    .await
}

pub async fn event(app: &App, id: &str, user: &str, name: &str, amount: u64) -> (u16, Value) {
    app.post(
        "/networks/{net}/events",
        json!({"event_id": id, "user": user, "event": name, "amount_usd_cents": amount}),
    )
    .await
}

/// A network with the chain a ← b ← c ← d, a rule paying `levels` on `purchase`, and `n`
/// purchases of d, `o0`.., settled.
pub async fn purchases(levels: Value, n: usize) -> App {
    let app = App::new().await;
    chain(&app).await;
    let (s, v) = rule(&app, "buy", json!({"event": "purchase", "levels": levels})).await;
    assert_eq!(s, 201, "{v}");
    for i in 0..n {
        assert_eq!(
            event(&app, &format!("o{i}"), "d@x.io", "purchase", 1)
                .await
                .0,
            202
        );
    }
    app.settle().await;
    app
}

pub async fn rewards(app: &App, user: &str) -> Value {
    app.settle().await;
    let (s, v) = app
        .get(&format!(
            "/networks/{{net}}/users/{}/rewards?limit=100",
            user.replace('@', "%40")
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn get_event(app: &App, id: &str) -> Value {
    app.settle().await;
    let (s, v) = app.get(&format!("/networks/{{net}}/events/{id}")).await;
    assert_eq!(s, 200, "{v}");
    v["event"].clone()
}

/// a ← b ← c ← d: d's upline is c, b, a.
pub async fn chain(app: &App) {
    for (u, r) in [
        ("b@x.io", "a@x.io"),
        ("c@x.io", "b@x.io"),
        ("d@x.io", "c@x.io"),
    ] {
        assert_eq!(app.link("p", u, r).await.0, 201);
    }
}

fn amounts(v: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v["rewards"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["user"].as_str().unwrap_or_default().to_owned(),
                        r["amount_usd_cents"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn rules_are_created_updated_listed_and_validated() {
    let app = App::new().await;
    let (s, v) = rule(
        &app,
        "buy",
        json!({"event": "purchase", "levels": [{"level": 1, "percent_bps": 1000}], "hold_days": 2}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["rule"]["levels"][0]["percent_bps"], 1000);
    assert_eq!(v["rule"]["active"], true);
    let (s, v) = rule(&app, "buy", json!({"active": false})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["rule"]["active"].clone(), v["rule"]["hold_days"].clone()),
        (json!(false), json!(2))
    );
    let (s, v) = app.get("/networks/{net}/connections/p/rules").await;
    assert_eq!(s, 200);
    assert_eq!(v["rules"].as_array().map(Vec::len), Some(1), "{v}");

    let (_, prog) = app
        .put(
            "/networks/{net}/connections/short",
            json!({"max_levels": 2}),
        )
        .await;
    assert_eq!(prog["program"]["max_levels"], 2);
    for (body, field) in [
        (
            json!({"event": "x", "levels": [{"level": 3, "amount_usd_cents": 1}]}),
            "levels",
        ),
        (json!({"event": "x", "levels": [{"level": 1}]}), "levels"),
        (
            json!({"event": "x", "levels": [{"level": 1, "amount_usd_cents": 1, "percent_bps": 1}]}),
            "levels",
        ),
        (
            json!({"levels": [{"level": 1, "amount_usd_cents": 1}]}),
            "event",
        ),
        (json!({"event": "x"}), "levels"),
        (
            json!({"event": "x", "levels": [{"level": 1, "amount_usd_cents": 1}], "hold_days": 400}),
            "hold_days",
        ),
    ] {
        let (s, v) = app
            .put(
                "/networks/{net}/connections/short/rules/r",
                json!({ "rule": body }),
            )
            .await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{body}: {v}"
        );
    }
    let (s, v) = app.get("/networks/{net}/connections/short/rules").await;
    assert_eq!(
        (s, v["rules"].as_array().map(Vec::len)),
        (200, Some(0)),
        "nothing written"
    );
    let (s, v) = rule(&app, "bad id!", json!({})).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = app
        .put(
            "/networks/{net}/connections/nope/rules/r",
            json!({"rule": {"event": "x", "levels": [{"level": 1, "amount_usd_cents": 1}]}}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("program_not_found"))
    );
}

#[tokio::test]
async fn an_event_earns_for_its_upline_once_and_the_balance_follows() {
    let app = App::new().await;
    chain(&app).await;
    assert_eq!(
        rule(&app, "buy", json!({"event": "purchase", "levels": [{"level": 1, "percent_bps": 1000}, {"level": 2, "amount_usd_cents": 50}, {"level": 3, "percent_bps": 333}]})).await.0,
        201
    );
    app.calls.reset();
    let (s, v) = event(&app, "o-1", "d@x.io", "purchase", 999).await;
    let trips = app.calls.count();
    eprintln!("round trips: post events = {trips}");
    assert!(trips <= 2, "{trips}");
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["event"]["settled"], false);
    // the same body again, and another body
    assert_eq!(event(&app, "o-1", "d@x.io", "purchase", 999).await.0, 200);
    let (s, v) = event(&app, "o-1", "d@x.io", "purchase", 1000).await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (409, json!("event_id_reused"))
    );

    let ev = get_event(&app, "o-1").await;
    assert_eq!(ev["settled"], true, "{ev}");
    // 10% of 999 rounds down to 99; 3.33% of 999 to 33
    assert_eq!(
        amounts(&ev),
        vec![
            ("a@x.io".into(), 33),
            ("b@x.io".into(), 50),
            ("c@x.io".into(), 99)
        ]
    );
    assert!(ev["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "approved" && r["referee"] == "d@x.io"));

    app.calls.reset();
    let c = rewards(&app, "c@x.io").await;
    let calls = app.calls.count();
    assert!(calls <= 1 + shared::domain::shards::EDGE_SHARDS, "{calls}");
    assert_eq!(
        c["balance"],
        json!({"pending": 0, "approved": 99, "paid": 0, "voided": 0}),
        "{c}"
    );
    assert!(c["balance_as_of"].is_string());
    assert_eq!(c["rewards"].as_array().map(Vec::len), Some(1));
    // events of no rule, and users without a referrer, earn nothing
    assert_eq!(event(&app, "o-2", "d@x.io", "refund", 5).await.0, 202);
    assert_eq!(event(&app, "o-3", "a@x.io", "purchase", 5000).await.0, 202);
    assert_eq!(get_event(&app, "o-3").await["rewards"], json!([]));
    assert_eq!(rewards(&app, "c@x.io").await["balance"]["approved"], 99);
}

#[tokio::test]
async fn concurrent_identical_events_earn_one_reward_each() {
    let app = App::new().await;
    chain(&app).await;
    rule(&app, "buy", json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}, {"level": 2, "amount_usd_cents": 10}]})).await;
    let answers = join_all((0..30).map(|_| event(&app, "same", "d@x.io", "purchase", 1))).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 202).count(), 1);
    assert!(answers.iter().all(|(s, _)| *s == 202 || *s == 200));
    assert_eq!(
        amounts(&get_event(&app, "same").await),
        vec![("b@x.io".into(), 10), ("c@x.io".into(), 100)]
    );
    assert_eq!(rewards(&app, "c@x.io").await["balance"]["approved"], 100);
    // the event delivered again, twice at once: nothing more
    let item = app
        .state
        .store
        .get(&(format!("EVT#{}#same", app.net), "EVT".into()))
        .await
        .unwrap()
        .unwrap();
    let record = crate::rewards::insert_record(item);
    join_all((0..2).map(|_| app.stream_to("derive-rewards", vec![record.clone()]))).await;
    assert_eq!(rewards(&app, "c@x.io").await["balance"]["approved"], 100);
    assert_eq!(
        rewards(&app, "c@x.io").await["rewards"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// A stream INSERT record of `item`, as the mapping delivers it.
pub fn insert_record(item: shared::store::Item) -> Value {
    let pk = item.get("PK").cloned();
    let sk = item.get("SK").cloned();
    let keys: shared::store::Item = [
        ("PK".to_owned(), pk.unwrap()),
        ("SK".to_owned(), sk.unwrap()),
    ]
    .into();
    let image: serde_dynamo::Item = item.into();
    let keys: serde_dynamo::Item = keys.into();
    json!({
        "eventID": "redelivered",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795356000.0,
            "Keys": keys,
            "NewImage": image,
            "SequenceNumber": "1",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
    })
}

#[tokio::test]
async fn signups_earn_once_whichever_path_connected() {
    let app = App::new().await;
    rule(
        &app,
        "join",
        json!({"event": "signup", "levels": [{"level": 1, "amount_usd_cents": 500}]}),
    )
    .await;
    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);
    let (s, v) = app
        .post("/networks/{net}/user_status", json!({"user": "c@x.io", "status_change": "create_user", "referrer": "a@x.io", "referral_program_id": "p"}))
        .await;
    assert!(s < 300, "{v}");
    let a = rewards(&app, "a@x.io").await;
    let mut ids: Vec<String> = a["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["signup:p:b@x.io", "signup:p:c@x.io"]);
    assert_eq!(a["balance"]["approved"], 1000);
    // a removal and a later link record none
    assert_eq!(app.remove_referrer("p", "b@x.io").await.0, 200);
    assert_eq!(app.link("p", "b@x.io", "z@x.io").await.0, 201);
    assert_eq!(rewards(&app, "z@x.io").await["rewards"], json!([]));
    let ev = get_event(&app, "signup:p:b@x.io").await;
    assert_eq!(
        (ev["event"].clone(), ev["settled"].clone()),
        (json!("signup"), json!(true))
    );
}

#[tokio::test]
async fn rewards_go_to_the_upline_at_acceptance_and_later_events_to_the_new_one() {
    let app = App::new().await;
    chain(&app).await;
    rule(&app, "buy", json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}, {"level": 2, "amount_usd_cents": 10}]})).await;
    assert_eq!(event(&app, "before", "d@x.io", "purchase", 1).await.0, 202);
    // an event accepted, then d moves under a before its rewards are written
    let held = format!("EVT#{}#held", app.net);
    crate::stream::drop_records_matching(Some(&held));
    assert_eq!(event(&app, "held", "d@x.io", "purchase", 1).await.0, 202);
    app.settle().await;
    crate::stream::drop_records_matching(None);
    let (s, v) = app.set_referrer("p", "d@x.io", "a@x.io").await;
    assert!(s < 300, "{v}");
    assert_eq!(event(&app, "after", "d@x.io", "purchase", 1).await.0, 202);
    let item = app
        .state
        .store
        .get(&(held, "EVT".into()))
        .await
        .unwrap()
        .unwrap();
    app.stream_to("derive-rewards", vec![insert_record(item)])
        .await;
    assert_eq!(
        amounts(&get_event(&app, "held").await),
        vec![("b@x.io".into(), 10), ("c@x.io".into(), 100)],
        "the upline at acceptance"
    );
    assert_eq!(
        amounts(&get_event(&app, "after").await),
        vec![("a@x.io".into(), 100)]
    );
    assert_eq!(
        amounts(&get_event(&app, "before").await),
        vec![("b@x.io".into(), 10), ("c@x.io".into(), 100)],
        "earlier rewards stay"
    );
}

#[tokio::test]
async fn a_banned_beneficiary_is_skipped_and_a_referee_cap_holds_under_concurrency() {
    let app = App::new().await;
    chain(&app).await;
    rule(&app, "first", json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}, {"level": 2, "amount_usd_cents": 10}], "max_rewards_per_referee": 1})).await;
    assert!(app.status("b@x.io", "ban").await.0 < 300);
    let answers = join_all((0..10).map(|i| {
        let app = &app;
        async move { event(app, &format!("e{i}"), "d@x.io", "purchase", 1).await }
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 202));
    let c = rewards(&app, "c@x.io").await;
    assert_eq!(
        c["rewards"].as_array().map(Vec::len),
        Some(1),
        "one event of d earns: {c}"
    );
    assert_eq!(
        rewards(&app, "b@x.io").await["rewards"],
        json!([]),
        "b is banned"
    );
    let (s, v) = event(&app, "by-banned", "b@x.io", "purchase", 1).await;
    assert_eq!((s, v["error"]["code"].clone()), (403, json!("user_banned")));
}

#[tokio::test]
async fn bad_events_get_a_clear_400_and_nothing_is_written() {
    let app = App::new().await;
    chain(&app).await;
    for (body, code) in [
        (
            json!({"event_id": "", "user": "d@x.io", "event": "e"}),
            "invalid_event_id",
        ),
        (
            json!({"event_id": "a b", "user": "d@x.io", "event": "e"}),
            "invalid_event_id",
        ),
        (
            json!({"event_id": "x", "user": "d@x.io", "event": "Purchase"}),
            "invalid_event",
        ),
        (
            json!({"event_id": "x", "user": "d@x.io", "event": "e", "amount_usd_cents": -5}),
            "invalid_amount",
        ),
        (
            json!({"event_id": "x", "user": "d@x.io", "event": "e", "metadata": "m"}),
            "invalid_metadata",
        ),
        (
            json!({"event_id": "x", "user": "not a user", "event": "e"}),
            "invalid_user",
        ),
        (json!({"event_id": "x", "user": "d@x.io"}), "invalid_body"),
    ] {
        let (s, v) = app.post("/networks/{net}/events", body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (400, json!(code)),
            "{body}: {v}"
        );
    }
    let (s, v) = app.get("/networks/{net}/events/x").await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("event_not_found"))
    );
    let (s, v) = event(&app, "x", "nobody@x.io", "e", 1).await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("user_not_found"))
    );
    let (s, _) = app
        .get("/networks/{net}/users/d%40x.io/rewards?status=lost")
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .get("/networks/{net}/users/d%40x.io/rewards?cursor=abc")
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_user_s_rewards_page_through_the_cursor_newest_first() {
    let app = purchases(json!([{"level": 1, "amount_usd_cents": 1}]), 0).await;
    for i in 0..7 {
        assert_eq!(
            event(&app, &format!("p{i}"), "d@x.io", "purchase", 1)
                .await
                .0,
            202
        );
        app.settle().await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor
            .as_ref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let (s, v) = app
            .get(&format!(
                "/networks/{{net}}/users/c%40x.io/rewards?limit=3{q}"
            ))
            .await;
        assert_eq!(s, 200, "{v}");
        seen.extend(
            v["rewards"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["event_id"].as_str().unwrap().to_owned()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7).rev().map(|i| format!("p{i}")).collect::<Vec<_>>()
    );
    assert_eq!(rewards(&app, "c@x.io").await["balance"]["approved"], 7);
}

#[tokio::test]
async fn a_deso_credit_is_in_the_same_ledger() {
    use crate::deso::{begin, callback, create_hash, money, OWNER};
    use crate::harness::deso_public_key;
    let app = App::new().await;
    money(&app, 1000, 250, 100).await;
    let code = create_hash(&app, OWNER, 500, 100, 0).await;
    let referee = 0x61;
    assert_eq!(begin(&app, referee, &code).await.0, 200);
    let (s, v) = callback(&app, referee).await;
    assert_eq!((s, v["ReferralCounted"].clone()), (200, json!(true)), "{v}");
    let credit = app
        .state
        .store
        .get(&(
            format!("CREDIT#{}#{}", app.net, deso_public_key(referee)),
            "CREDIT".into(),
        ))
        .await
        .unwrap()
        .unwrap();
    let owner = rewards(&app, &deso_public_key(OWNER)).await;
    let kick = &owner["rewards"][0];
    assert_eq!(
        (
            kick["rule_id"].clone(),
            kick["status"].clone(),
            kick["level"].clone(),
            kick["referee"].clone()
        ),
        (
            json!("deso"),
            json!("paid"),
            json!(1),
            json!(deso_public_key(referee))
        ),
        "{owner}"
    );
    assert_eq!(owner["balance"]["paid"], kick["amount_usd_cents"]);
    assert_eq!(kick["amount_usd_cents"], v["ReferrerAmountUSDCents"], "{v}");
    let own = rewards(&app, &deso_public_key(referee)).await;
    assert_eq!(own["rewards"].as_array().map(Vec::len), Some(1), "{own}");
    assert_eq!(
        (
            own["rewards"][0]["level"].clone(),
            own["rewards"][0]["status"].clone()
        ),
        (json!(0), json!("paid"))
    );
    // delivered again: nothing more
    app.stream_to("derive-rewards", vec![insert_record(credit)])
        .await;
    // the credit's connection recorded the referee's signup too
    let (s, _) = app
        .get(&format!(
            "/networks/{{net}}/events/signup:p:{}",
            deso_public_key(referee)
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        rewards(&app, &deso_public_key(OWNER)).await["rewards"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    app.check().await;
}

#[tokio::test]
async fn a_consumer_killed_between_two_rules_of_an_event_finishes_it_once() {
    let app = App::new().await;
    chain(&app).await;
    rule(
        &app,
        "a",
        json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}]}),
    )
    .await;
    let key = format!("EVT#{}#twice", app.net);
    crate::stream::drop_records_matching(Some(&key));
    assert_eq!(event(&app, "twice", "d@x.io", "purchase", 1).await.0, 202);
    app.settle().await;
    let item = app
        .state
        .store
        .get(&(key.clone(), "EVT".into()))
        .await
        .unwrap()
        .unwrap();
    // The first rule's transaction committed, then the consumer died: the state a second rule
    // added afterwards leaves, with the event's first delivery done for one rule only.
    app.stream_to("derive-rewards", vec![insert_record(item.clone())])
        .await;
    rule(
        &app,
        "b",
        json!({"event": "purchase", "levels": [{"level": 2, "amount_usd_cents": 10}]}),
    )
    .await;
    crate::stream::drop_records_matching(None);
    app.stream_to("derive-rewards", vec![insert_record(item)])
        .await;
    assert_eq!(
        amounts(&get_event(&app, "twice").await),
        vec![("b@x.io".into(), 10), ("c@x.io".into(), 100)]
    );
    assert_eq!(
        rewards(&app, "c@x.io").await["rewards"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    app.check().await;
}
