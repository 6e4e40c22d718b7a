use serde_json::json;

use crate::harness::App;

#[tokio::test]
async fn upsert_creates_with_defaults_then_updates_keeping_fields() {
    let app = App::bare().await;
    let (s, v) = app.put("/networks/{net}/connections/gold", json!({})).await;
    assert_eq!(s, 201, "{v}");
    let p = &v["program"];
    assert_eq!(p["program_id"], "gold");
    assert_eq!(p["name"], "gold");
    assert_eq!(p["max_levels"], 10);
    assert_eq!(p["active"], true);
    assert_eq!(p["referrer_amount_usd_cents"], 0);
    assert_eq!(p["max_referrals_per_code"], 0);
    let created_at = p["created_at"].clone();

    let (s, v) = app
        .put(
            "/networks/{net}/connections/gold",
            json!({"name": "Gold", "max_levels": 3, "referee_amount_usd_cents": 250}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .put("/networks/{net}/connections/gold", json!({"active": false}))
        .await;
    assert_eq!(s, 200);
    let p = &v["program"];
    assert_eq!(p["name"], "Gold");
    assert_eq!(p["max_levels"], 3);
    assert_eq!(p["active"], false);
    assert_eq!(p["referee_amount_usd_cents"], 250);
    assert_eq!(p["created_at"], created_at);

    // an empty body is an empty patch
    let req = app.request("PUT", "/networks/{net}/connections/gold", None, None);
    let (s, v) = crate::harness::decode(
        app.dispatch("PUT", "/networks/{net}/connections/gold", req)
            .await,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["program"]["name"], "Gold");
}

#[tokio::test]
async fn upsert_rejects_bad_input_and_writes_nothing() {
    let app = App::bare().await;
    for (body, code) in [
        (json!({"max_levels": 11}), "invalid_max_levels"),
        (json!({"max_levels": 0}), "invalid_max_levels"),
        (json!({"max_levels": "3"}), "invalid_body"),
        (json!({"active": "yes"}), "invalid_body"),
        (json!({"name": ""}), "invalid_name"),
        (json!({"referrer_amount_usd_cents": 100001}), "invalid_body"),
        (json!({"referee_amount_usd_cents": -5}), "invalid_body"),
        (
            json!({"max_referrals_per_code": -1}),
            "invalid_max_referrals_per_code",
        ),
        (json!([1, 2]), "invalid_body"),
        (json!(null), "invalid_body"),
    ] {
        let (s, v) = app.put("/networks/{net}/connections/p", body.clone()).await;
        assert_eq!(s, 400, "{body} -> {v}");
        assert_eq!(v["error"]["code"], code, "{body}");
    }
    for raw in ["{", "not json", "\"text\"", "{\"name\": \"\\ud800\"}"] {
        let req = app.request(
            "PUT",
            "/networks/{net}/connections/p",
            Some(raw.into()),
            None,
        );
        let (s, v) = crate::harness::decode(
            app.dispatch("PUT", "/networks/{net}/connections/p", req)
                .await,
        );
        assert_eq!(s, 400, "{raw} -> {v}");
    }
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    let req = app.request("PUT", "/networks/{net}/connections/p", Some(big), None);
    let (s, v) = crate::harness::decode(
        app.dispatch("PUT", "/networks/{net}/connections/p", req)
            .await,
    );
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["error"]["code"], "payload_too_large");
    for bad in [
        "/networks/{net}/connections/bad%20id",
        "/networks/{net}/connections/x%23y",
    ] {
        let (s, _) = app.put(bad, json!({})).await;
        assert_eq!(s, 400, "{bad}");
    }
    let (s, v) = app.get("/networks/{net}/connections").await;
    assert_eq!(s, 200);
    assert_eq!(v["programs"], json!([]), "nothing was written");
}

#[tokio::test]
async fn keys_are_checked() {
    let app = App::bare().await;
    let other = App::bare().await;
    let path = "/networks/{net}/connections/p";
    let (s, v) = app.call("PUT", path, Some(json!({})), Some("")).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (s, _) = app
        .call("PUT", path, Some(json!({})), Some("rk_not_a_key"))
        .await;
    assert_eq!(s, 401);
    let (s, v) = app
        .call("PUT", path, Some(json!({})), Some(&other.key))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    for (m, p, b) in [
        ("GET", "/networks/{net}/connections", None),
        (
            "POST",
            "/networks/{net}/connections/p",
            Some(json!({"user": "a@x.io", "connection": "b@x.io"})),
        ),
        ("GET", "/networks/{net}/connections/p/users/a@x.io", None),
        (
            "GET",
            "/networks/{net}/connections/p/users/a@x.io/codes",
            None,
        ),
        (
            "POST",
            "/networks/{net}/user_status",
            Some(json!({"user": "a@x.io", "status_change": "create_user"})),
        ),
    ] {
        let (s, _) = app.call(m, p, b.clone(), Some("")).await;
        assert_eq!(s, 401, "{m} {p}");
        let (s, _) = app.call(m, p, b.clone(), Some("unknown")).await;
        assert_eq!(s, 401, "{m} {p}");
        let (s, _) = app.call(m, p, b, Some(&other.key)).await;
        assert_eq!(s, 403, "{m} {p}");
    }
    let (s, v) = app.get("/networks/{net}/connections").await;
    assert_eq!(s, 200);
    assert_eq!(v["programs"], json!([]), "refused requests wrote nothing");
}

#[tokio::test]
async fn programs_list_in_pages() {
    let app = App::bare().await;
    for i in 0..5 {
        let (s, _) = app
            .put(
                &format!("/networks/{{net}}/connections/p{i}"),
                json!({"name": format!("P{i}")}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/networks/{{net}}/connections?limit=2&cursor={c}"),
            None => "/networks/{net}/connections?limit=2".to_owned(),
        };
        let (s, v) = app.get(&q).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        for p in v["programs"].as_array().unwrap() {
            assert!(p["created_at"].is_string());
            seen.push(p["program_id"].as_str().unwrap().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["p0", "p1", "p2", "p3", "p4"]);

    let (s, v) = app.get("/networks/{net}/connections?limit=2").await;
    let c = v["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(s, 200);
    let mut tampered = c.clone();
    tampered.replace_range(2..3, if &c[2..3] == "A" { "B" } else { "A" });
    let (s, v) = app
        .get(&format!("/networks/{{net}}/connections?cursor={tampered}"))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    let other = App::bare().await;
    let (s, _) = other
        .get(&format!("/networks/{{net}}/connections?cursor={c}"))
        .await;
    assert_eq!(s, 400, "a cursor of another network's listing is refused");
    for l in ["0", "101", "x", "-1"] {
        let (s, v) = app
            .get(&format!("/networks/{{net}}/connections?limit={l}"))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some("invalid_limit"))
        );
    }
}
