//! Webhooks end to end: the routes, messages made from committed changes by the fanout, and
//! the sender's attempts, retries and disabling, against a receiver on 127.0.0.1.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{with_logs, App};
use crate::receiver::{signed_by, Got, Receiver};
use crate::rewards::{chain, event, rule};

async fn create(app: &App, url: &str, events: Value) -> (u16, Value) {
    app.post(
        "/networks/{net}/webhooks",
        json!({"url": url, "events": events}),
    )
    .await
}

/// A webhook of `events` to `rx`: (id, secret).
async fn hook(app: &App, rx: &Receiver, events: Value) -> (String, String) {
    let (s, v) = create(app, &rx.url, events).await;
    assert_eq!(s, 201, "{v}");
    (
        v["webhook"]["webhook_id"].as_str().unwrap().to_owned(),
        v["webhook"]["secret"].as_str().unwrap().to_owned(),
    )
}

async fn test_message(app: &App, id: &str) -> String {
    let (s, v) = app
        .post(&format!("/networks/{{net}}/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(s, 202, "{v}");
    v["message_id"].as_str().unwrap().to_owned()
}

async fn deliveries(app: &App, id: &str) -> Vec<Value> {
    let (s, v) = app
        .get(&format!(
            "/networks/{{net}}/webhooks/{id}/deliveries?limit=100"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    v["deliveries"].as_array().cloned().unwrap_or_default()
}

async fn webhook(app: &App, id: &str) -> Value {
    let (s, v) = app.get(&format!("/networks/{{net}}/webhooks/{id}")).await;
    assert_eq!(s, 200, "{v}");
    v["webhook"].clone()
}

/// Lets the stream and the sender run until `done` holds of what `rx` got (or 60 s pass).
/// The stream runs on its own: waiting for it to drain once is enough, and on a busy suite
/// waiting each round would wait for other tests' changes too.
async fn deliver_until(app: &App, rx: &Receiver, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
    app.settle().await;
    for _ in 0..120 {
        app.send_webhooks(0.5).await;
        let got = rx.got();
        if done(&got) {
            return got;
        }
    }
    panic!("not delivered within 60 s: {:#?}", rx.got());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_routes_keep_secrets_to_create_and_rotate() {
    let app = App::bare().await;
    let rx = Receiver::start().await;
    let ((s, v), logs) = with_logs(create(&app, &rx.url, json!(["*"]))).await;
    assert_eq!(s, 201, "{v}");
    let w = &v["webhook"];
    let (id, secret) = (
        w["webhook_id"].as_str().unwrap(),
        w["secret"].as_str().unwrap(),
    );
    assert_eq!(
        shared::domain::webhook::secret_key(secret).map(|k| k.len()),
        Some(32)
    );
    assert_eq!(
        (w["active"].clone(), w["events"].clone()),
        (json!(true), json!(["*"]))
    );
    let (s, listed) = app.get("/networks/{net}/webhooks").await;
    assert_eq!(s, 200);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    let read = webhook(&app, id).await;
    for shown in [&listed.to_string(), &read.to_string()] {
        assert!(
            !shown.contains(secret) && !shown.contains("\"secret\""),
            "{shown}"
        );
    }
    let path = format!("/networks/{{net}}/webhooks/{id}");
    let (s, v) = app
        .call(
            "PATCH",
            &path,
            Some(json!({"events": ["reward.created"], "description": "ops"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["webhook"]["events"].clone()),
        (200, json!(["reward.created"]))
    );
    let (s, v) = app
        .call("PATCH", &path, Some(json!({"description": ""})), None)
        .await;
    assert_eq!((s, v["webhook"]["description"].clone()), (200, Value::Null));
    let ((s, v), rotate_logs) =
        with_logs(app.post(&format!("{path}/rotate_secret"), json!({}))).await;
    assert_eq!(s, 200, "{v}");
    let rotated = v["webhook"]["secret"].as_str().unwrap();
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    for l in [&logs, &rotate_logs, &crate::harness::logs()] {
        assert!(
            !l.contains(secret) && !l.contains(rotated),
            "a secret in the logs"
        );
    }
    assert_eq!(app.call("DELETE", &path, None, None).await.0, 204);
    assert_eq!(app.get(&path).await.0, 404);
    assert_eq!(app.call("DELETE", &path, None, None).await.0, 404);
    // the secret went with it
    let net = shared::domain::NetworkId::try_from(app.net.as_str()).unwrap();
    let k = shared::store::keys::webhook_secret(&net, id);
    assert!(app.state.store.get(&k).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_network_has_at_most_twenty_webhooks_however_they_race() {
    let app = App::bare().await;
    let rx = Receiver::start().await;
    let answers =
        futures::future::join_all((0..25).map(|_| create(&app, &rx.url, json!(["*"])))).await;
    let made = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = answers.iter().filter(|(s, _)| *s != 201).collect();
    assert_eq!(made, 20);
    for (s, v) in refused {
        assert_eq!(
            (*s, v["error"]["code"].clone()),
            (409, json!("webhook_limit"))
        );
    }
    let (_, listed) = app.get("/networks/{net}/webhooks").await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 20);
    // a deletion makes room for one more
    let first = listed["webhooks"][0]["webhook_id"].as_str().unwrap();
    let path = format!("/networks/{{net}}/webhooks/{first}");
    assert_eq!(app.call("DELETE", &path, None, None).await.0, 204);
    assert_eq!(create(&app, &rx.url, json!(["*"])).await.0, 201);
    assert_eq!(create(&app, &rx.url, json!(["*"])).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn urls_the_rules_refuse_get_invalid_url() {
    let app = App::bare().await;
    let inside = app.with_webhooks(|w| {
        w.resolve = vec![
            ("inside.test".into(), "10.0.0.7".parse().unwrap()),
            ("meta.test".into(), "169.254.169.254".parse().unwrap()),
        ]
    });
    for url in [
        "http://hooks.example.com/in",
        "ftp://hooks.example.com/in",
        "https://user:pw@hooks.example.com/in",
        "https://10.1.2.3/in",
        "https://172.16.5.4/in",
        "https://192.168.0.10/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://[fd12:3456::1]/in",
        "https://inside.test/in",
        "https://meta.test/in",
        "https://nowhere.invalid/in",
        "https://127.0.0.1/in",
        "not a url",
    ] {
        let (s, v) = create(&inside, url, json!(["*"])).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (400, json!("invalid_url")),
            "{url}: {v}"
        );
    }
    // the local stack's receivers, only where the table is local
    let rx = Receiver::start().await;
    assert_eq!(create(&app, &rx.url, json!(["*"])).await.0, 201);
    let production = app.with_webhooks(|w| w.allow_local = false);
    let (s, v) = create(&production, &rx.url, json!(["*"])).await;
    assert_eq!((s, v["error"]["code"].clone()), (400, json!("invalid_url")));
    for events in [json!([]), json!(["reward.made"]), json!(["*", "job.made"])] {
        let (s, v) = create(&app, &rx.url, events.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (400, json!("invalid_events")),
            "{events}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_type_arrives_signed_once_its_change_commits() {
    let app = App::new().await;
    let rx = Receiver::start().await;
    let (id, secret) = hook(&app, &rx, json!(["*"])).await;
    chain(&app).await; // a <- b <- c <- d
                       // refused: a cycle commits nothing, so it tells nothing
    assert_eq!(app.link("p", "a@x.io", "d@x.io").await.0, 409);
    let hold = json!({"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 100}], "hold_days": 30});
    assert_eq!(rule(&app, "buy", hold).await.0, 201);
    assert_eq!(event(&app, "o1", "d@x.io", "purchase", 1).await.0, 202);
    app.settle().await;
    let (_, r) = app.get("/networks/{net}/users/c%40x.io/rewards").await;
    let reward = r["rewards"][0]["reward_id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .post(
            &format!("/networks/{{net}}/rewards/{reward}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, p) = app.post("/networks/{net}/payouts", json!({})).await;
    assert_eq!(s, 202, "{p}");
    // d moves at once; b takes its subtree along in a job
    crate::move_jobs::broom(&app, "b@x.io", "w", 40).await;
    assert_eq!(app.set_referrer("p", "d@x.io", "a@x.io").await.0, 200);
    let (s, j) = app.set_referrer("p", "b@x.io", "x@x.io").await;
    assert_eq!(s, 202, "{j}");
    app.wait_job(j["job"]["id"].as_str().unwrap()).await;
    assert_eq!(app.remove_referrer("p", "d@x.io").await.0, 200);
    assert_eq!(app.status("z@x.io", "create_user").await.0, 201);
    assert_eq!(app.status("z@x.io", "ban").await.0, 200);
    // a code capped at 1 fills
    let (s, _) = app
        .put(
            "/networks/{net}/connections/p",
            json!({"max_referrals_per_code": 1}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, codes) = app
        .get("/networks/{net}/connections/p/users/owner%40x.io/codes")
        .await;
    let code = codes["codes"][0]["code"].as_str().unwrap().to_owned();
    let (s, v) = app
        .post(
            "/networks/{net}/user_status",
            json!({"user": "joiner@x.io", "status_change": "create_user", "referrer": code}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let test_id = test_message(&app, &id).await;

    let all = [
        "connection.created",
        "connection.moved",
        "connection.removed",
        "reward.created",
        "reward.updated",
        "code.exhausted",
        "user.banned",
        "job.finished",
        "payout.finished",
        "webhook.test",
    ];
    // Every message read below, not one of each type: delivery keeps no order.
    let has = |g: &[Got], t: &str, user: &str| {
        g.iter()
            .any(|m| m.kind() == t && m.body["data"]["user"] == user)
    };
    let got = deliver_until(&app, &rx, |g| {
        all.iter().all(|t| g.iter().any(|m| m.kind() == *t))
            && g.iter().filter(|m| m.kind() == "reward.updated").count() >= 2
            && has(g, "connection.created", "d@x.io")
            && has(g, "connection.created", "joiner@x.io")
            && has(g, "connection.moved", "b@x.io")
    })
    .await;
    for m in &got {
        assert!(signed_by(m, &secret), "{m:?}");
        assert_eq!(
            m.body["timestamp"].as_str().map(str::len),
            Some(24),
            "{}",
            m.raw
        );
    }
    let of = |t: &str| -> Vec<&Value> {
        got.iter()
            .filter(|m| m.kind() == t)
            .map(|m| &m.body["data"])
            .collect()
    };
    let created = of("connection.created");
    let d = created
        .iter()
        .find(|c| c["user"] == "d@x.io")
        .expect("d's connection");
    assert_eq!(d["referrer"], "c@x.io");
    assert_eq!(d["upline"], json!(["c@x.io", "b@x.io", "a@x.io"]));
    assert_eq!(d["program_id"], "p");
    assert!(d["created_at"].is_string());
    assert!(
        !created.iter().any(|c| c["user"] == "a@x.io"),
        "the refused link"
    );
    let joined = created.iter().find(|c| c["user"] == "joiner@x.io").unwrap();
    assert_eq!(joined["code"], json!(code));
    let moved = of("connection.moved");
    assert!(moved.iter().any(|m| m["user"] == "d@x.io"
        && m["referrer"] == "a@x.io"
        && m["previous_referrer"] == "c@x.io"));
    let b = moved
        .iter()
        .find(|m| m["user"] == "b@x.io")
        .expect("b moved");
    assert_eq!(
        (b["referrer"].clone(), b["previous_referrer"].clone()),
        (json!("x@x.io"), json!("a@x.io"))
    );
    assert_eq!(b["job_id"], j["job"]["id"]);
    assert_eq!(
        moved.len(),
        2,
        "once for the user whose referrer changed, not its subtree"
    );
    assert_eq!(
        of("connection.removed"),
        vec![&json!({"program_id": "p", "user": "d@x.io", "previous_referrer": "a@x.io"})]
    );
    assert_eq!(
        of("reward.created")[0]["reward"]["reward_id"],
        json!(reward)
    );
    let updated: Vec<_> = of("reward.updated")
        .iter()
        .map(|u| u["reward"]["status"].clone())
        .collect();
    assert!(
        updated.contains(&json!("approved")) && updated.contains(&json!("paid")),
        "{updated:?}"
    );
    assert_eq!(
        of("code.exhausted"),
        vec![&json!({"code": code, "program_id": "p", "user": "owner@x.io", "max_referrals": 1})]
    );
    assert_eq!(of("user.banned"), vec![&json!({"user": "z@x.io"})]);
    assert_eq!(of("job.finished")[0]["job"]["status"], "done");
    assert_eq!(
        of("payout.finished")[0]["payout"]["payout_id"],
        p["payout"]["payout_id"]
    );
    assert_eq!(of("webhook.test"), vec![&json!({})]);
    assert!(got.iter().any(|m| m.id == test_id));
    // each message once: every attempt answered 204
    let mut ids: Vec<_> = got.iter().map(|m| m.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len());
    let listed = deliveries(&app, &id).await;
    assert_eq!(listed.len(), got.len());
    assert!(listed
        .iter()
        .all(|d| d["status"] == "delivered" && d["attempts"] == 1));
    let newest_first: Vec<_> = listed
        .iter()
        .map(|d| d["message_id"].as_str().unwrap())
        .collect();
    assert!(newest_first.windows(2).all(|w| w[0] > w[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_gets_its_types_only() {
    let app = App::new().await;
    let rx = Receiver::start().await;
    let (_, secret) = hook(&app, &rx, json!(["connection.removed"])).await;
    let other = Receiver::start().await;
    let (off, _) = hook(&app, &other, json!(["*"])).await;
    let path = format!("/networks/{{net}}/webhooks/{off}");
    let (s, _) = app
        .call("PATCH", &path, Some(json!({"active": false})), None)
        .await;
    assert_eq!(s, 200);
    chain(&app).await;
    assert_eq!(app.remove_referrer("p", "d@x.io").await.0, 200);
    let got = deliver_until(&app, &rx, |g| !g.is_empty()).await;
    app.send_webhooks(1.0).await;
    let got = [got, rx.got()].concat();
    assert!(got
        .iter()
        .all(|m| m.kind() == "connection.removed" && signed_by(m, &secret)));
    assert!(other.got().is_empty(), "an inactive webhook gets nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_keeps_the_id_and_signs_afresh() {
    let app = App::bare().await;
    let fast = app.with_webhooks(|w| {
        w.schedule = vec![Duration::from_millis(1100); 3];
        w.timeout = Duration::from_millis(700);
    });
    let rx = Receiver::start().await;
    // a 500, then no answer in time, then a 204
    rx.plan(&[(500, 0), (204, 2000)]);
    let (id, secret) = hook(&app, &rx, json!(["*"])).await;
    let msg = test_message(&app, &id).await;
    let got = deliver_until(&fast, &rx, |g| g.len() >= 3).await;
    assert!(got.iter().all(|m| m.id == msg && signed_by(m, &secret)));
    assert!(got[0].timestamp < got[1].timestamp && got[1].timestamp < got[2].timestamp);
    assert!(got[0].signature != got[1].signature && got[1].signature != got[2].signature);
    let d = &deliveries(&app, &id).await[0];
    assert_eq!(
        (
            d["status"].clone(),
            d["attempts"].clone(),
            d["last_status_code"].clone()
        ),
        (json!("delivered"), json!(3), json!(204))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_410_disables_the_webhook_at_once() {
    let app = App::bare().await;
    let rx = Receiver::start().await;
    rx.always(410, 0);
    let (id, _) = hook(&app, &rx, json!(["*"])).await;
    test_message(&app, &id).await;
    deliver_until(&app, &rx, |g| !g.is_empty()).await;
    let w = webhook(&app, &id).await;
    assert_eq!(
        (w["active"].clone(), w["disabled_reason"].clone()),
        (json!(false), json!("gone"))
    );
    // nothing more is sent: the next message fails without an attempt
    test_message(&app, &id).await;
    app.send_webhooks(1.0).await;
    assert_eq!(rx.got().len(), 1);
    let listed = deliveries(&app, &id).await;
    assert!(listed.iter().all(|d| d["status"] == "failed"), "{listed:?}");
    assert_eq!(listed[0]["attempts"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_for_the_whole_window_disable_the_webhook() {
    let app = App::bare().await;
    // five days, shortened to one second
    let short = app.with_webhooks(|w| {
        w.schedule = vec![Duration::from_millis(300); 20];
        w.disable_after = Duration::from_secs(1);
    });
    let rx = Receiver::start().await;
    rx.always(500, 0);
    let (id, _) = hook(&app, &rx, json!(["*"])).await;
    test_message(&app, &id).await;
    for _ in 0..40 {
        short.send_webhooks(0.5).await;
        if webhook(&app, &id).await["active"] == false {
            break;
        }
    }
    let w = webhook(&app, &id).await;
    assert_eq!(
        (w["active"].clone(), w["disabled_reason"].clone()),
        (json!(false), json!("failing"))
    );
    assert!(rx.got().len() >= 3);
    // set active again: it sends, and is no longer failing
    rx.always(204, 0);
    let path = format!("/networks/{{net}}/webhooks/{id}");
    let (s, v) = app
        .call("PATCH", &path, Some(json!({"active": true})), None)
        .await;
    assert_eq!(
        (s, v["webhook"]["disabled_reason"].clone()),
        (200, Value::Null)
    );
    let msg = test_message(&app, &id).await;
    let got = deliver_until(&short, &rx, |g| g.iter().any(|m| m.id == msg)).await;
    assert!(got.iter().any(|m| m.id == msg));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_endpoint_does_not_hold_back_the_others() {
    let app = App::bare().await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    // the case: an endpoint that answers just inside the 15 s
    slow.always(204, 14_000);
    let (slow_id, _) = hook(&app, &slow, json!(["*"])).await;
    let (fast_id, _) = hook(&app, &fast, json!(["*"])).await;
    for _ in 0..5 {
        test_message(&app, &slow_id).await;
        test_message(&app, &fast_id).await;
    }
    app.send_webhooks(4.5).await;
    let (s, f) = (slow.got(), fast.got());
    assert_eq!((s.len(), f.len()), (5, 5));
    // every healthy message was answered before the slow endpoint answered its first
    let first_slow = s.iter().map(|g| g.answered).min().unwrap();
    assert!(f.iter().all(|g| g.answered < first_slow));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_and_retry_send_again_with_the_same_ids() {
    let app = App::bare().await;
    let rx = Receiver::start().await;
    let (id, secret) = hook(&app, &rx, json!(["*"])).await;
    let (m1, m2) = (test_message(&app, &id).await, test_message(&app, &id).await);
    deliver_until(&app, &rx, |g| g.len() >= 2).await;
    let since = shared::clock::rfc3339(shared::clock::now().ns - 60_000_000_000);
    let path = format!("/networks/{{net}}/webhooks/{id}");
    let (s, v) = app
        .post(&format!("{path}/replay"), json!({"since": since}))
        .await;
    assert_eq!((s, v["messages"].clone()), (202, json!(2)));
    let got = deliver_until(&app, &rx, |g| g.len() >= 4).await;
    for m in [&m1, &m2] {
        assert_eq!(got.iter().filter(|g| &g.id == m).count(), 2);
    }
    let (s, v) = app
        .post(&format!("{path}/deliveries/{m1}/retry"), json!({}))
        .await;
    assert_eq!(
        (s, v["delivery"]["status"].clone()),
        (202, json!("pending"))
    );
    let got = deliver_until(&app, &rx, |g| g.len() >= 5).await;
    assert_eq!(got.iter().filter(|g| g.id == m1).count(), 3);
    assert!(got.iter().all(|g| signed_by(g, &secret)));
    let old = shared::clock::rfc3339(shared::clock::now().ns - 8 * 86_400_000_000_000);
    for bad in [
        json!({"since": old}),
        json!({"since": "yesterday"}),
        json!({}),
    ] {
        let (s, v) = app.post(&format!("{path}/replay"), bad.clone()).await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    let unknown = "msg_00000000000aaaaaaaaaaaaaaaaaaaa";
    let (s, v) = app
        .post(&format!("{path}/deliveries/{unknown}/retry"), json!({}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("message_not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_host_is_checked_again_at_each_attempt() {
    let app = App::bare().await;
    let public = app.with_webhooks(|w| {
        w.resolve = vec![("hook.test".into(), "93.184.216.34".parse().unwrap())]
    });
    let (s, v) = create(&public, "https://hook.test/in", json!(["*"])).await;
    assert_eq!(s, 201, "{v}");
    let id = v["webhook"]["webhook_id"].as_str().unwrap().to_owned();
    // the name now points inward: the attempt connects nowhere and fails
    let inward =
        app.with_webhooks(|w| w.resolve = vec![("hook.test".into(), "10.0.0.9".parse().unwrap())]);
    test_message(&app, &id).await;
    let ((), logs) = with_logs(async {
        inward.send_webhooks(1.0).await;
    })
    .await;
    let d = &deliveries(&app, &id).await[0];
    assert_eq!(
        (
            d["status"].clone(),
            d["attempts"].clone(),
            d["last_status_code"].clone()
        ),
        (json!("pending"), json!(1), Value::Null),
        "{logs}"
    );
    assert!(d["next_attempt_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_delivered_twice_makes_one_message() {
    let app = App::new().await;
    let rx = Receiver::start().await;
    let (id, _) = hook(&app, &rx, json!(["*"])).await;
    app.settle().await;
    let pk = format!("MEM#{}#p#late@x.io", app.net);
    let record = json!({
        "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/t/stream/s",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795356000.0,
            "Keys": {"PK": {"S": pk}, "SK": {"S": "MEM"}},
            "NewImage": {"PK": {"S": pk}, "SK": {"S": "MEM"}, "user": {"S": "late@x.io"},
                "referrer": {"S": "a@x.io"}, "upline": {"L": [{"S": "a@x.io"}]},
                "root": {"S": "a@x.io"}, "gen": {"N": "1"}},
            "SequenceNumber": "100", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
    });
    app.stream_to("webhook-fanout", vec![record.clone()]).await;
    app.stream_to("webhook-fanout", vec![record.clone(), record])
        .await;
    let listed = deliveries(&app, &id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let got = deliver_until(&app, &rx, |g| !g.is_empty()).await;
    assert_eq!(got[0].body["timestamp"], "2026-11-22T14:00:00.000Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trips_of_the_webhook_routes() {
    let app = App::bare().await;
    let rx = Receiver::start().await;
    let mut id = String::new();
    let v = app
        .trips("create", 2, create(&app, &rx.url, json!(["*"])))
        .await;
    id.push_str(v["webhook"]["webhook_id"].as_str().unwrap());
    let path = format!("/networks/{{net}}/webhooks/{id}");
    app.trips("list", 2, app.get("/networks/{net}/webhooks"))
        .await;
    app.trips("get", 1, app.get(&path)).await;
    app.trips(
        "patch",
        2,
        app.call("PATCH", &path, Some(json!({"description": "d"})), None),
    )
    .await;
    app.trips(
        "rotate",
        2,
        app.post(&format!("{path}/rotate_secret"), json!({})),
    )
    .await;
    let v = app
        .trips("test", 2, app.post(&format!("{path}/test"), json!({})))
        .await;
    let msg = v["message_id"].as_str().unwrap().to_owned();
    app.trips(
        "test again",
        2,
        app.post(&format!("{path}/test"), json!({})),
    )
    .await;
    app.trips("deliveries", 2, app.get(&format!("{path}/deliveries")))
        .await;
    app.trips(
        "retry",
        2,
        app.post(&format!("{path}/deliveries/{msg}/retry"), json!({})),
    )
    .await;
    let since = shared::clock::rfc3339(shared::clock::now().ns - 60_000_000_000);
    // the key and webhook, one page of messages, one UpdateItem each
    app.trips(
        "replay of 2",
        4,
        app.post(&format!("{path}/replay"), json!({"since": since})),
    )
    .await;
    app.trips("delete", 2, app.call("DELETE", &path, None, None))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_down_for_a_while_loses_nothing() {
    let app = App::new().await;
    let short = app.with_webhooks(|w| w.schedule = vec![Duration::from_secs(1); 60]);
    let rx = Receiver::start().await;
    let (id, secret) = hook(&app, &rx, json!(["connection.created"])).await;
    rx.stop();
    let users: Vec<String> = (0..30).map(|i| format!("down{i}@x.io")).collect();
    let links = futures::future::join_all(users.iter().map(|u| app.link("p", u, "top@x.io"))).await;
    assert!(links.iter().all(|(s, _)| *s == 201));
    // down for 20 s while the sender keeps trying
    let t = std::time::Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        app.settle().await;
        short.send_webhooks(1.0).await;
    }
    assert!(rx.got().is_empty());
    let failing = deliveries(&app, &id).await;
    assert_eq!(failing.len(), 30);
    assert!(failing
        .iter()
        .all(|d| d["status"] == "pending" && d["attempts"].as_u64() >= Some(2)));
    rx.resume().await;
    let got = deliver_until(&short, &rx, |g| {
        users
            .iter()
            .all(|u| g.iter().any(|m| m.body["data"]["user"] == json!(u)))
    })
    .await;
    assert!(got.iter().all(|m| signed_by(m, &secret)));
    let done = deliveries(&app, &id).await;
    assert!(done.iter().all(|d| d["status"] == "delivered"), "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sender_killed_mid_attempt_leaves_the_message_to_the_next() {
    let app = App::bare().await;
    // a lease of 1 s + 5 s: the message comes back 6 s after the dead sender claimed it
    let sender = app.with_webhooks(|w| w.timeout = Duration::from_secs(1));
    let rx = Receiver::start().await;
    rx.plan(&[(204, 3000)]);
    let (id, _) = hook(&app, &rx, json!(["*"])).await;
    let msg = test_message(&app, &id).await;
    let dying = tokio::spawn(async move { sender.send_webhooks(5.0).await });
    for _ in 0..100 {
        if !rx.got().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dying.abort();
    assert_eq!(rx.got().len(), 1, "the first attempt reached the receiver");
    let d = &deliveries(&app, &id).await[0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("pending"), json!(0))
    );
    let got = deliver_until(&app, &rx, |g| g.len() >= 2).await;
    assert!(got.iter().all(|m| m.id == msg));
    let d = &deliveries(&app, &id).await[0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("delivered"), json!(1))
    );
}
