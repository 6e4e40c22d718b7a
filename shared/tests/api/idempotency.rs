//! `Idempotency-Key` on the writes: replays of every write family, a key reused for another
//! body, concurrent requests with one key, a lease that outlives its request, and a request
//! whose answer was lost after its write.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{decode, App, Setup};
use crate::receiver::Receiver;
use crate::rewards::chain;

/// `method path` with `body`, the API key `api_key` (None: the network's) and `key`.
fn keyed_request(
    app: &App,
    method: &str,
    path: &str,
    body: Option<Value>,
    api_key: Option<&str>,
    key: &str,
) -> lambda_http::Request {
    let mut req = app.request(method, path, body.map(|b| b.to_string()), api_key);
    req.headers_mut().insert(
        "idempotency-key",
        lambda_http::http::HeaderValue::from_str(key).unwrap(),
    );
    req
}

/// (status, body, whether the answer was a replay).
async fn keyed(
    app: &App,
    method: &str,
    path: &str,
    body: Option<Value>,
    key: &str,
) -> (u16, Value, bool) {
    let req = keyed_request(app, method, path, body, None, key);
    let resp = app.dispatch(method, path, req).await;
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    let (s, v) = decode(resp);
    (s, v, replayed)
}

/// Sends the request twice with one key: the second answer is the first, replayed.
async fn twice(app: &App, method: &str, path: &str, body: Value) -> (u16, Value) {
    let key = format!("k-{method}-{path}");
    let (s1, v1, r1) = keyed(app, method, path, Some(body.clone()), &key).await;
    assert!(!r1, "{method} {path}: a first request is no replay");
    let (s2, v2, r2) = keyed(app, method, path, Some(body), &key).await;
    assert!(r2, "{method} {path}: {s2} {v2} was not replayed");
    assert_eq!((s1, &v1), (s2, &v2), "{method} {path}");
    (s1, v1)
}

async fn codes_of(app: &App, user: &str) -> Vec<String> {
    let (s, v) = app
        .get(&format!(
            "/networks/{{net}}/connections/p/users/{user}/codes"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    v["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_family_replays_its_first_answer_and_writes_once() {
    let app = App::new().await;
    // programs: a replayed 201 stays 201, where a second run would say 200
    let (s, _) = twice(
        &app,
        "PUT",
        "/networks/{net}/connections/q",
        json!({"name": "Q"}),
    )
    .await;
    assert_eq!(s, 201);

    // links and user status
    let (s, v) = twice(
        &app,
        "POST",
        "/networks/{net}/connections/p",
        json!({"user": "b@x.io", "connection": "a@x.io"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, _) = twice(
        &app,
        "POST",
        "/networks/{net}/user_status",
        json!({"user": "c@x.io", "status_change": "create_user", "referrer": "b@x.io", "referral_program_id": "p"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = twice(
        &app,
        "PUT",
        "/networks/{net}/connections/p/users/c%40x.io/referrer",
        json!({"connection": "a@x.io"}),
    )
    .await;
    assert!(s < 300, "{s}");
    let (s, _) = twice(
        &app,
        "DELETE",
        "/networks/{net}/connections/p/users/c%40x.io/referrer",
        json!({}),
    )
    .await;
    assert_eq!(s, 200);

    // codes: one drawn code, whatever the retries
    let before = codes_of(&app, "a%40x.io").await.len();
    let (s, v) = twice(
        &app,
        "POST",
        "/networks/{net}/connections/p/users/a%40x.io/codes",
        json!({}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let code = v["code"]["code"].as_str().unwrap().to_owned();
    let after = codes_of(&app, "a%40x.io").await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert!(after.contains(&code));
    let (s, v) = twice(
        &app,
        "PATCH",
        &format!("/networks/{{net}}/codes/{code}"),
        json!({"max_referrals": 7}),
    )
    .await;
    assert_eq!((s, &v["code"]["max_referrals"]), (200, &json!(7)));

    // rules, events and rewards
    let (s, _) = twice(
        &app,
        "PUT",
        "/networks/{net}/connections/p/rules/buy",
        json!({"rule": {"event": "purchase", "hold_days": 30, "levels": [{"level": 1, "amount_usd_cents": 100}]}}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = twice(
        &app,
        "POST",
        "/networks/{net}/events",
        json!({"event_id": "e1", "user": "b@x.io", "event": "purchase", "amount_usd_cents": 1000}),
    )
    .await;
    assert!(s < 300, "{s}");
    app.settle().await;
    let (_, ev) = app.get("/networks/{net}/events/e1").await;
    let rewards = ev["event"]["rewards"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rewards.len(), 1, "{ev}");
    let reward = rewards[0]["reward_id"].as_str().unwrap().to_owned();
    let (s, _) = twice(
        &app,
        "POST",
        &format!("/networks/{{net}}/rewards/{reward}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, p) = twice(&app, "POST", "/networks/{net}/payouts", json!({})).await;
    assert!(s < 300, "{s} {p}");
    let (s, v) = app.post("/networks/{net}/payouts", json!({})).await;
    assert!(s < 300 || s == 409, "{s} {v}");
    let (s, _) = twice(&app, "POST", "/networks/{net}/events/e1/reverse", json!({})).await;
    assert!(s < 300, "{s}");

    // webhooks: one webhook, and its secret is not kept
    let rx = Receiver::start().await;
    let key = "create-hook";
    let body = json!({"url": rx.url, "events": ["*"]});
    let (s1, v1, _) = keyed(
        &app,
        "POST",
        "/networks/{net}/webhooks",
        Some(body.clone()),
        key,
    )
    .await;
    assert_eq!(s1, 201, "{v1}");
    assert!(v1["webhook"]["secret"].is_string());
    let (s2, v2, r2) = keyed(&app, "POST", "/networks/{net}/webhooks", Some(body), key).await;
    assert!(r2);
    assert_eq!(s2, 201);
    assert_eq!(v2["webhook"]["webhook_id"], v1["webhook"]["webhook_id"]);
    assert!(v2["webhook"].get("secret").is_none(), "{v2}");
    let (_, listed) = app.get("/networks/{net}/webhooks").await;
    assert_eq!(listed["webhooks"].as_array().map(Vec::len), Some(1));
    let id = v1["webhook"]["webhook_id"].as_str().unwrap().to_owned();
    let (s, v) = twice(
        &app,
        "POST",
        &format!("/networks/{{net}}/webhooks/{id}/test"),
        json!({}),
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let (_, d) = app
        .get(&format!("/networks/{{net}}/webhooks/{id}/deliveries"))
        .await;
    let tests = d["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["event_type"] == "webhook.test" || m["type"] == "webhook.test")
        .count();
    assert_eq!(tests, 1, "{d}");
    let (s, _) = twice(
        &app,
        "PATCH",
        &format!("/networks/{{net}}/webhooks/{id}"),
        json!({"description": "ops"}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = twice(
        &app,
        "DELETE",
        &format!("/networks/{{net}}/webhooks/{id}"),
        json!({}),
    )
    .await;
    assert!(s < 300, "{s}");
    rx.stop();
    // The stream goes on past the records kept answers write (a 204's has no headers).
    let (s, _) = app.link("p", "f@x.io", "a@x.io").await;
    assert_eq!(s, 201);
    let a = app.connections("p", "a%40x.io", "").await;
    assert_eq!(a["downline_counts"]["1"], 2, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_reused_for_another_request_gets_422_and_runs_nothing() {
    let app = App::new().await;
    let path = "/networks/{net}/connections/p/users/a%40x.io/codes";
    let (s, _, _) = keyed(&app, "POST", path, Some(json!({"code": "ONE-1"})), "k").await;
    assert_eq!(s, 201);
    for (method, path, body) in [
        ("POST", path, json!({"code": "TWO-2"})),
        (
            "POST",
            "/networks/{net}/connections/p/users/b%40x.io/codes",
            json!({"code": "ONE-1"}),
        ),
        ("PUT", "/networks/{net}/connections/p", json!({})),
    ] {
        let (s, v, _) = keyed(&app, method, path, Some(body), "k").await;
        assert_eq!(
            (s, &v["error"]["code"]),
            (422, &json!("idempotency_key_reused")),
            "{method} {path}: {v}"
        );
    }
    let theirs = codes_of(&app, "b%40x.io").await;
    assert!(!theirs.contains(&"ONE-1".to_owned()), "{theirs:?}");
    let mine = codes_of(&app, "a%40x.io").await;
    assert!(mine.contains(&"ONE-1".to_owned()) && !mine.contains(&"TWO-2".to_owned()));

    // keys are per network: another network's same key runs
    let other = App::new().await;
    let (s, _, r) = keyed(&other, "POST", path, Some(json!({"code": "TWO-2"})), "k").await;
    assert_eq!((s, r), (201, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_keys_and_bad_credentials_keep_nothing() {
    let app = App::new().await;
    let path = "/networks/{net}/connections/p/users/a%40x.io/codes";
    for bad in ["", &"k".repeat(256)] {
        let (s, v, _) = keyed(&app, "POST", path, Some(json!({})), bad).await;
        assert_eq!(
            (s, &v["error"]["code"]),
            (400, &json!("invalid_idempotency_key"))
        );
    }
    // A wrong API key gets 401 and claims nothing: the right one then runs with that key.
    let req = keyed_request(
        &app,
        "POST",
        path,
        Some(json!({})),
        Some("rk_wrong"),
        "shared",
    );
    let (s, _) = decode(app.dispatch("POST", path, req).await);
    assert_eq!(s, 401);
    let (s, _, r) = keyed(&app, "POST", path, Some(json!({})), "shared").await;
    assert_eq!((s, r), (201, false));
    // A refusal is an answer, and is kept.
    let bad = "/networks/{net}/connections/nope/users/a%40x.io/codes";
    let (s1, v1, _) = keyed(&app, "POST", bad, Some(json!({})), "refused").await;
    assert_eq!(s1, 404);
    let (_, _) = app.put("/networks/{net}/connections/nope", json!({})).await;
    let (s2, v2, r2) = keyed(&app, "POST", bad, Some(json!({})), "refused").await;
    assert_eq!((s2, &v2, r2), (404, &v1, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_requests_with_one_key_run_once() {
    let app = App::new().await;
    let path = "/networks/{net}/connections/p/users/a%40x.io/codes";
    let before = codes_of(&app, "a%40x.io").await.len();
    let answers = futures::future::join_all((0..10).map(|_| {
        keyed(
            &app,
            "POST",
            path,
            Some(json!({"max_referrals": 3})),
            "burst",
        )
    }))
    .await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _, _)| *s == 201)
        .map(|(_, v, _)| &v["code"]["code"])
        .collect();
    let first: Vec<_> = answers.iter().filter(|(s, _, r)| *s == 201 && !r).collect();
    assert_eq!(first.len(), 1, "{answers:?}");
    assert!(created.iter().all(|c| *c == created[0]), "{created:?}");
    for (s, v, _) in &answers {
        assert!(
            *s == 201 || (*s == 409 && v["error"]["code"] == "idempotency_key_in_use"),
            "{s} {v}"
        );
    }
    assert_eq!(codes_of(&app, "a%40x.io").await.len(), before + 1);
    // once answered, every retry gets the answer
    let (s, v, r) = keyed(
        &app,
        "POST",
        path,
        Some(json!({"max_referrals": 3})),
        "burst",
    )
    .await;
    assert_eq!((s, r, &v["code"]["code"]), (201, true, created[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lease_left_by_a_request_that_died_lets_the_retry_run() {
    let app = App::new().await;
    let short = app.with_config(|c| c.idempotency_lease = Duration::from_millis(300));
    let path = "/networks/{net}/connections/p/users/a%40x.io/codes";
    // The first request died before it wrote: its task is dropped mid-way.
    let req = keyed_request(&short, "POST", path, Some(json!({})), None, "died");
    let run = short.dispatch("POST", path, req);
    let _ = tokio::time::timeout(Duration::from_millis(1), run).await;
    let (s, v, _) = keyed(&short, "POST", path, Some(json!({})), "died").await;
    assert!(s == 201 || s == 409, "{s} {v}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (s, v, r) = keyed(&short, "POST", path, Some(json!({})), "died").await;
    assert_eq!(s, 201, "{v}");
    let code = v["code"]["code"].clone();
    let (s, v, r2) = keyed(&short, "POST", path, Some(json!({})), "died").await;
    assert_eq!((s, &v["code"]["code"], r || r2), (201, &code, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_killed_after_its_write_replays_and_writes_nothing_more() {
    let app = App::with_program(Setup {
        hold_ms: Some(0),
        ..Setup::default()
    })
    .await;
    chain(&app).await;
    let proxy = &app.proxy.as_ref().expect("a proxy").proxy;
    let path = "/networks/{net}/user_status";
    let body = json!({"user": "z@x.io", "status_change": "create_user", "referrer": "d@x.io", "referral_program_id": "p"});
    // The signup and its answer commit together, then the answer is lost on the way back,
    // and so are the SDK's retries: the client sees a failure.
    proxy.add_fault(conflict_proxy::Fault::AnswerLost {
        target: "TransactWriteItems".into(),
        contains: "a_body".into(),
        count: 2,
    });
    let (s, v, _) = keyed(&app, "POST", path, Some(body.clone()), "lost").await;
    assert!(s >= 500, "{s} {v}");
    assert_eq!(proxy.fired(), 1);
    proxy.reset();
    app.calls.reset();
    let (s, v, r) = keyed(&app, "POST", path, Some(body), "lost").await;
    assert_eq!((s, r), (201, true), "{v}");
    assert_eq!(v["connection"]["referrer"], "d@x.io", "{v}");
    assert_eq!(app.calls.count(), 1, "the retry is its claim alone");
    assert_eq!(
        proxy.stats(1)["transactions"],
        json!(1),
        "the retry wrote nothing but its failed claim"
    );
    let z = app.connections("p", "z@x.io", "").await;
    assert_eq!(z["referrer"], "d@x.io", "{z}");
}

/// Round trips of `method path body`, sent with `key` (or none).
async fn trips_of(app: &App, method: &str, path: &str, body: Value, key: Option<&str>) -> usize {
    app.calls.reset();
    let (s, v, _) = match key {
        Some(k) => keyed(app, method, path, Some(body), k).await,
        None => {
            let (s, v) = app.call(method, path, Some(body), None).await;
            (s, v, false)
        }
    };
    assert!(s < 300, "{method} {path}: {s} {v}");
    app.calls.count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_adds_one_round_trip_and_a_replay_is_one() {
    let app = App::new().await;
    chain(&app).await;
    let rx = Receiver::start().await;
    let (_, hook) = app
        .post(
            "/networks/{net}/webhooks",
            json!({"url": rx.url, "events": ["*"]}),
        )
        .await;
    let hook = hook["webhook"]["webhook_id"].as_str().unwrap().to_owned();
    let (_, code) = app
        .post(
            "/networks/{net}/connections/p/users/a%40x.io/codes",
            json!({}),
        )
        .await;
    let code = code["code"]["code"].as_str().unwrap().to_owned();
    // Each case is sent twice, once without a key and once with one, doing the same work.
    type Body = Box<dyn Fn(usize) -> Value>;
    let cases: Vec<(&str, String, Body)> = vec![
        (
            "POST",
            "/networks/{net}/connections/p/users/a%40x.io/codes".into(),
            Box::new(|_| json!({})),
        ),
        (
            "POST",
            "/networks/{net}/connections/p".into(),
            Box::new(|i| json!({"user": format!("l{i}@x.io"), "connection": "d@x.io"})),
        ),
        (
            "POST",
            "/networks/{net}/user_status".into(),
            Box::new(
                |i| json!({"user": format!("s{i}@x.io"), "status_change": "create_user", "referrer": "d@x.io", "referral_program_id": "p"}),
            ),
        ),
        (
            "PATCH",
            format!("/networks/{{net}}/codes/{code}"),
            Box::new(|i| json!({"max_referrals": 10 + i})),
        ),
        (
            "PUT",
            "/networks/{net}/connections/p/rules/r".into(),
            Box::new(
                |i| json!({"rule": {"event": format!("e{i}"), "levels": [{"level": 1, "amount_usd_cents": 1}]}}),
            ),
        ),
        (
            "POST",
            "/networks/{net}/events".into(),
            Box::new(|i| json!({"event_id": format!("ev{i}"), "user": "d@x.io", "event": "x"})),
        ),
        (
            "POST",
            format!("/networks/{{net}}/webhooks/{hook}/test"),
            Box::new(|_| json!({})),
        ),
        (
            "PUT",
            "/networks/{net}/connections/p".into(),
            Box::new(|i| json!({"name": format!("P{i}")})),
        ),
        (
            "PATCH",
            format!("/networks/{{net}}/webhooks/{hook}"),
            Box::new(|i| json!({"description": format!("d{i}")})),
        ),
        (
            "POST",
            format!("/networks/{{net}}/webhooks/{hook}/rotate_secret"),
            Box::new(|i| json!({"n": i})),
        ),
        (
            "POST",
            "/networks/{net}/events/ev0/reverse".into(),
            Box::new(|_| json!({})),
        ),
    ];
    for (method, path, body) in &cases {
        let plain = trips_of(&app, method, path, body(0), None).await;
        let key = format!("trips {method} {path}");
        let first = trips_of(&app, method, path, body(1), Some(&key)).await;
        let replay = trips_of(&app, method, path, body(1), Some(&key)).await;
        eprintln!("round trips: {method} {path}: {plain} without a key, {first} with one, {replay} replayed");
        assert!(
            first <= plain + 1,
            "{method} {path}: {first} against {plain}"
        );
        assert_eq!(replay, 1, "{method} {path}");
    }
    rx.stop();
}
