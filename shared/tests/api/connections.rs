use serde_json::{json, Value};

use crate::harness::{deso_key, email, users, App};

#[tokio::test]
async fn add_connection_creates_then_replays() {
    let app = App::new().await;
    let (s, v) = app
        .post("/networks/{net}/connections/p", json!({"user": " Bob@Example.com", "connection": "alice@example.com", "metadata": {"src": "import"}}))
        .await;
    assert_eq!(s, 201, "{v}");
    let c = &v["connection"];
    assert_eq!(c["program_id"], "p");
    assert_eq!(c["user"], "bob@example.com");
    assert_eq!(c["referrer"], "alice@example.com");
    assert_eq!(c["upline"], json!(["alice@example.com"]));
    assert!(c["created_at"].is_string());
    let (s, again) = app.link("p", "bob@example.com", "ALICE@example.com").await;
    assert_eq!(s, 200);
    assert_eq!(again, v, "a replay answers the same body");

    let alice = app.connections("p", "alice@example.com", "").await;
    assert_eq!(alice["referrer"], Value::Null);
    assert_eq!(users(&alice, "downline"), ["bob@example.com"]);
    assert_eq!(alice["downline"][0]["level"], 1);
    assert_eq!(alice["downline_counts"]["1"], 1);
    let bob = app.connections("p", "bob@example.com", "").await;
    assert_eq!(bob["referrer"], "alice@example.com");
    assert_eq!(
        bob["upline"],
        json!([{"user": "alice@example.com", "level": 1}])
    );

    // DeSo keys are users too
    let k = deso_key(9);
    let (s, v) = app.link("p", &k, "bob@example.com").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        v["connection"]["upline"],
        json!(["bob@example.com", "alice@example.com"])
    );
}

#[tokio::test]
async fn add_connection_refusals_write_nothing() {
    let app = App::new().await;
    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"user": "c@x.io", "connection": "c@x.io"}),
            422,
            "self_referral",
        ),
        (
            json!({"user": "b@x.io", "connection": "z@x.io"}),
            409,
            "already_connected",
        ),
        (
            json!({"user": "a@x.io", "connection": "b@x.io"}),
            409,
            "cycle",
        ),
        (
            json!({"user": "not-an-email", "connection": "a@x.io"}),
            400,
            "invalid_user",
        ),
        (
            json!({"user": "c@x.io", "connection": "BC1YLbadkey"}),
            400,
            "invalid_user",
        ),
        (json!({"user": "c@x.io"}), 400, "invalid_body"),
        (
            json!({"user": 5, "connection": "a@x.io"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user": "c@x.io", "connection": "a@x.io", "metadata": [1]}),
            400,
            "invalid_body",
        ),
        (
            json!({"user": "c@x.io", "connection": null}),
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = app
            .post("/networks/{net}/connections/p", body.clone())
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {v}"
        );
    }
    let (s, v) = app.link("nope", "c@x.io", "a@x.io").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("program_not_found"))
    );

    let (s, _) = app
        .put("/networks/{net}/connections/p", json!({"active": false}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = app.link("p", "c@x.io", "a@x.io").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("program_inactive"))
    );
    app.put("/networks/{net}/connections/p", json!({"active": true}))
        .await;

    let (s, _) = app.status("a@x.io", "ban").await;
    assert_eq!(s, 200);
    let (s, v) = app.link("p", "c@x.io", "a@x.io").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("user_banned")),
        "banned referrer"
    );
    let (s, _) = app.link("p", "a@x.io", "d@x.io").await;
    assert_eq!(s, 403, "banned referee");

    let a = app.connections("p", "a@x.io", "").await;
    assert_eq!(
        users(&a, "downline"),
        ["b@x.io"],
        "nothing was written by the refusals"
    );
    assert_eq!(a["downline_counts"]["1"], 1);
    let c = app.connections("p", "c@x.io", "").await;
    assert_eq!(c["referrer"], Value::Null);
}

#[tokio::test]
async fn chain_of_thirteen() {
    let app = App::new().await;
    let u = |i: usize| email("c", i);
    for i in 1..13 {
        let (s, v) = app.link("p", &u(i), &u(i - 1)).await;
        assert_eq!(s, 201, "{v}");
        let up = v["connection"]["upline"].as_array().unwrap().len();
        assert_eq!(up, i.min(10));
    }
    let last = app.connections("p", &u(12), "").await;
    let up = users(&last, "upline");
    assert_eq!(up.len(), 10, "the upline is cut at 10");
    assert_eq!(up, (2..12).rev().map(u).collect::<Vec<_>>());
    assert_eq!(last["upline"][9]["level"], 10);

    let root = app.connections("p", &u(0), "?limit=100").await;
    let down = root["downline"].as_array().unwrap();
    assert_eq!(down.len(), 10, "the downline is cut at 10");
    for (i, d) in down.iter().enumerate() {
        assert_eq!(d["level"], i + 1);
        assert_eq!(d["user"], u(i + 1));
    }
    for l in 1..=10 {
        assert_eq!(root["downline_counts"][l.to_string()], 1);
        let at = app.connections("p", &u(0), &format!("?level={l}")).await;
        assert_eq!(users(&at, "downline"), [u(l)]);
    }
    let mid = app.connections("p", &u(5), "").await;
    assert_eq!(mid["downline_counts"]["7"], 1);
    assert_eq!(mid["downline_counts"]["8"], 0);
    assert_eq!(users(&mid, "upline").len(), 5);

    // a 14th member, then closing the cycle 13 levels down is refused
    assert_eq!(app.link("p", &u(13), &u(12)).await.0, 201);
    let (s, v) = app.link("p", &u(0), &u(13)).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("cycle")));
    let (s, _) = app.link("p", &u(3), &u(11)).await;
    assert_eq!(s, 409);
    let root = app.connections("p", &u(0), "").await;
    assert_eq!(root["referrer"], Value::Null);
}

#[tokio::test]
async fn max_levels_cuts_reads() {
    let app = App::new().await;
    app.put(
        "/networks/{net}/connections/short",
        json!({"max_levels": 3}),
    )
    .await;
    for i in 1..6 {
        assert_eq!(
            app.link("short", &email("m", i), &email("m", i - 1))
                .await
                .0,
            201
        );
    }
    let v = app.connections("short", &email("m", 5), "").await;
    assert_eq!(users(&v, "upline").len(), 3);
    let v = app.connections("short", &email("m", 0), "").await;
    assert_eq!(users(&v, "downline").len(), 3);
    assert_eq!(v["downline_counts"].as_object().unwrap().len(), 3);
    let (s, r) = app
        .get(&format!(
            "/networks/{{net}}/connections/short/users/{}?level=4",
            email("m", 0)
        ))
        .await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (400, Some("invalid_level"))
    );
    for bad in ["0", "11", "x"] {
        let (s, _) = app
            .get(&format!(
                "/networks/{{net}}/connections/short/users/{}?level={bad}",
                email("m", 0)
            ))
            .await;
        assert_eq!(s, 400);
    }
    // raising max_levels later shows what was stored all along
    app.put(
        "/networks/{net}/connections/short",
        json!({"max_levels": 10}),
    )
    .await;
    let v = app.connections("short", &email("m", 5), "").await;
    assert_eq!(users(&v, "upline").len(), 5);
}

#[tokio::test]
async fn downline_pages_with_cursors() {
    let app = App::new().await;
    for i in 0..7 {
        assert_eq!(app.link("p", &email("r", i), "top@x.io").await.0, 201);
    }
    assert_eq!(app.link("p", "deep@x.io", &email("r", 0)).await.0, 201);
    let mut got = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let v = app
            .connections("p", "top@x.io", &format!("?limit=3{cursor}"))
            .await;
        pages += 1;
        got.extend(v["downline"].as_array().unwrap().iter().map(|d| {
            (
                d["level"].as_u64().unwrap(),
                d["user"].as_str().unwrap().to_owned(),
            )
        }));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut want: Vec<(u64, String)> = (0..7).map(|i| (1, email("r", i))).collect();
    want.push((2, "deep@x.io".into()));
    assert_eq!(got, want, "by level, then by connection time");

    let v = app.connections("p", "top@x.io", "?level=1&limit=3").await;
    let c = v["next_cursor"].as_str().unwrap().to_owned();
    let (s, e) = app
        .get(&format!(
            "/networks/{{net}}/connections/p/users/top@x.io?level=2&cursor={c}"
        ))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("invalid_cursor")),
        "a cursor is bound to its listing"
    );
    let (s, _) = app
        .get(&format!(
            "/networks/{{net}}/connections/p/users/r0@example.com?level=1&cursor={c}"
        ))
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .get("/networks/{net}/connections/p/users/top@x.io?cursor=eyJrIjoiMDEjIiwiYiI6IngifQ")
        .await;
    assert_eq!(s, 400);

    let none = app.connections("p", "stranger@x.io", "").await;
    assert_eq!(none["downline"], json!([]));
    assert_eq!(none["upline"], json!([]));
    assert_eq!(none["next_cursor"], Value::Null);
    let (s, _) = app
        .get("/networks/{net}/connections/p/users/not-a-user")
        .await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/networks/{net}/connections/zz/users/a@x.io").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn backfill_relinks_the_subtree() {
    let app = App::new().await;
    // existing tree: a <- b <- c, and b <- d
    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);
    assert_eq!(app.link("p", "c@x.io", "b@x.io").await.0, 201);
    assert_eq!(app.link("p", "d@x.io", "b@x.io").await.0, 201);
    // another tree: q <- r
    assert_eq!(app.link("p", "r@x.io", "q@x.io").await.0, 201);
    // a gains referrer r
    let (s, v) = app.link("p", "a@x.io", "r@x.io").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["connection"]["upline"], json!(["r@x.io", "q@x.io"]));
    let c = app.connections("p", "c@x.io", "").await;
    assert_eq!(
        users(&c, "upline"),
        ["b@x.io", "a@x.io", "r@x.io", "q@x.io"]
    );
    let q = app.connections("p", "q@x.io", "").await;
    assert_eq!(q["downline_counts"]["1"], 1);
    assert_eq!(q["downline_counts"]["2"], 1);
    assert_eq!(q["downline_counts"]["3"], 1);
    assert_eq!(q["downline_counts"]["4"], 2);
    let l4 = app.connections("p", "q@x.io", "?level=4").await;
    let mut l4u = users(&l4, "downline");
    l4u.sort();
    assert_eq!(l4u, ["c@x.io", "d@x.io"]);
    // the new root sees the old tree's members as descendants: cycles are caught
    let (s, v) = app.link("p", "q@x.io", "d@x.io").await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("cycle")));
}

#[tokio::test]
async fn a_backfill_too_large_for_one_transaction_runs_as_a_job() {
    let app = App::new().await;
    // a root with 12 referees, each with its own referee, under a 10-deep chain
    for i in 0..12 {
        assert_eq!(app.link("p", &email("k", i), "big@x.io").await.0, 201);
        assert_eq!(app.link("p", &email("g", i), &email("k", i)).await.0, 201);
    }
    for i in 1..10 {
        assert_eq!(
            app.link("p", &email("t", i), &email("t", i - 1)).await.0,
            201
        );
    }
    let (s, v) = app.link("p", "big@x.io", &email("t", 9)).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["job"]["status"], "running");
    assert_eq!(v["job"]["kind"], "move");
    assert_eq!(v["job"]["total"], 25, "big and the members below it");
    let job = app.wait_job(v["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["moved"], 25, "big and its 24 members");

    let big = app.connections("p", "big@x.io", "").await;
    assert_eq!(big["referrer"], email("t", 9));
    let g0 = app.connections("p", &email("g", 0), "").await;
    let up: Vec<String> = users(&g0, "upline");
    let mut want = vec![email("k", 0), "big@x.io".to_owned()];
    want.extend((2..10).rev().map(|i| email("t", i)));
    assert_eq!(up, want, "cut at ten");
    let t0 = app.connections("p", &email("t", 0), "").await;
    assert_eq!(t0["downline_counts"]["10"], 1, "big is ten below t0");
    let t5 = app.connections("p", &email("t", 5), "").await;
    assert_eq!(t5["downline_counts"]["5"], 1);
    assert_eq!(t5["downline_counts"]["6"], 12);
    assert_eq!(t5["downline_counts"]["7"], 12);
    // the moved members are below t0's tree now: a cycle back is refused
    let (s, v) = app.link("p", &email("t", 0), &email("g", 3)).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("cycle")));
}

#[tokio::test]
async fn round_trips() {
    let app = App::new().await;
    app.calls.reset();
    assert_eq!(app.link("p", "d1@x.io", "d0@x.io").await.0, 201);
    let depth1 = app.calls.count();
    for i in 2..11 {
        assert_eq!(
            app.link("p", &format!("d{i}@x.io"), &format!("d{}@x.io", i - 1))
                .await
                .0,
            201
        );
    }
    app.calls.reset();
    let (s, v) = app.link("p", "d11@x.io", "d10@x.io").await;
    assert_eq!(s, 201);
    assert_eq!(v["connection"]["upline"].as_array().unwrap().len(), 10);
    let depth10 = app.calls.count();
    eprintln!("round trips: add connection depth 1 = {depth1}, depth 10 = {depth10}");
    assert!(depth1 <= 2, "depth 1: {depth1}");
    assert!(depth10 <= 2, "depth 10: {depth10}");

    app.calls.reset();
    let v = app.connections("p", "d0@x.io", "?limit=4").await;
    let page1 = app.calls.count();
    let c = v["next_cursor"].as_str().unwrap().to_owned();
    app.calls.reset();
    app.connections("p", "d0@x.io", &format!("?limit=4&cursor={c}"))
        .await;
    let page2 = app.calls.count();
    eprintln!("round trips: get user connections page 1 = {page1}, page 2 = {page2}");
    // one BatchGetItem, then one Query per edge shard side by side: two round trips
    let calls = 1 + shared::domain::shards::EDGE_SHARDS;
    assert!(page1 <= calls && page2 <= calls, "{page1} {page2}");
}

/// The README's table of calls per endpoint.
#[tokio::test]
async fn round_trips_of_every_endpoint() {
    let app = App::new().await;
    app.trips(
        "put program (create)",
        2,
        app.put("/networks/{net}/connections/q", json!({})),
    )
    .await;
    app.trips(
        "put program (update)",
        2,
        app.put("/networks/{net}/connections/q", json!({"name": "Q"})),
    )
    .await;
    app.trips("list programs", 2, app.get("/networks/{net}/connections"))
        .await;
    app.trips("add connection", 2, app.link("p", "b@x.io", "a@x.io"))
        .await;
    app.trips(
        "add connection replay",
        1,
        app.link("p", "b@x.io", "a@x.io"),
    )
    .await;
    app.trips(
        "user connections",
        1 + shared::domain::shards::EDGE_SHARDS,
        app.get("/networks/{net}/connections/p/users/a@x.io"),
    )
    .await;
    app.trips(
        "user connections, no downline",
        1,
        app.get("/networks/{net}/connections/p/users/b@x.io"),
    )
    .await;
    app.trips(
        "connection codes, first",
        3,
        app.get("/networks/{net}/connections/p/users/a@x.io/codes"),
    )
    .await;
    app.trips(
        "connection codes",
        3,
        app.get("/networks/{net}/connections/p/users/a@x.io/codes"),
    )
    .await;
    app.trips(
        "create_user",
        2,
        app.post(
            "/networks/{net}/user_status",
            json!({"user": "c@x.io", "status_change": "create_user"}),
        ),
    )
    .await;
    app.trips(
        "create_user with user referrer",
        3,
        app.post("/networks/{net}/user_status", json!({"user": "d@x.io", "status_change": "create_user", "referrer": "a@x.io", "referral_program_id": "p"}))
    ).await;
    let (_, codes) = app
        .get("/networks/{net}/connections/p/users/a@x.io/codes")
        .await;
    let code = codes["codes"][0]["code"].as_str().unwrap().to_owned();
    app.trips(
        "create_user with code",
        4,
        app.post(
            "/networks/{net}/user_status",
            json!({"user": "e@x.io", "status_change": "create_user", "referrer": code}),
        ),
    )
    .await;
    app.trips(
        "change referrer, no referees",
        2,
        app.set_referrer("p", "e@x.io", "b@x.io"),
    )
    .await;
    app.trips(
        "change referrer, with referees",
        22,
        app.set_referrer("p", "b@x.io", "z@x.io"),
    )
    .await;
    app.trips("remove referrer", 22, app.remove_referrer("p", "b@x.io"))
        .await;
    app.trips(
        "revoke_invite",
        2,
        app.post(
            "/networks/{net}/user_status",
            json!({"user": "c@x.io", "status_change": "revoke_invite"}),
        ),
    )
    .await;
    app.trips(
        "ban",
        4,
        app.post(
            "/networks/{net}/user_status",
            json!({"user": "a@x.io", "status_change": "ban"}),
        ),
    )
    .await;
}
