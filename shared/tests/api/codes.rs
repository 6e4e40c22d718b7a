use serde_json::{json, Value};

use crate::harness::App;

async fn codes(app: &App, prog: &str, user: &str) -> Value {
    let (s, v) = app
        .get(&format!(
            "/networks/{{net}}/connections/{prog}/users/{user}/codes"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn default_code_is_created_once_with_program_settings() {
    let app = App::bare().await;
    app.put(
        "/networks/{net}/connections/gold",
        json!({"max_referrals_per_code": 3, "referrer_amount_usd_cents": 100}),
    )
    .await;
    let v = codes(&app, "gold", "Owner@x.io").await;
    assert_eq!(v["user"], "owner@x.io");
    assert_eq!(v["program_id"], "gold");
    let list = v["codes"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let c = &list[0];
    let code = c["code"].as_str().unwrap();
    assert_eq!(code.len(), 8);
    assert!(bs58::decode(code).into_vec().is_ok(), "base58: {code}");
    assert_eq!(c["active"], true);
    assert_eq!(c["max_referrals"], 3);
    assert_eq!(c["total_referrals"], 0);
    let again = codes(&app, "gold", "owner@x.io").await;
    assert_eq!(again["codes"], v["codes"]);
    let (s, _) = app
        .get("/networks/{net}/connections/none/users/owner@x.io/codes")
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get("/networks/{net}/connections/gold/users/bad/codes")
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn codes_count_connections_and_respect_their_limit() {
    let app = App::bare().await;
    app.put(
        "/networks/{net}/connections/gold",
        json!({"max_referrals_per_code": 2}),
    )
    .await;
    let v = codes(&app, "gold", "owner@x.io").await;
    let code = v["codes"][0]["code"].as_str().unwrap().to_owned();
    for i in 0..2 {
        let (s, v) = app
            .post("/networks/{net}/user_status", json!({"user": format!("n{i}@x.io"), "status_change": "create_user", "referrer": code}))
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["connection"]["referrer"], "owner@x.io");
        assert_eq!(v["connection"]["program_id"], "gold");
    }
    let (s, v) = app
        .post(
            "/networks/{net}/user_status",
            json!({"user": "n9@x.io", "status_change": "create_user", "referrer": code}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("code_unavailable"))
    );
    let v = codes(&app, "gold", "owner@x.io").await;
    assert_eq!(v["codes"][0]["total_referrals"], 2);
    let (s, _) = app.status("n9@x.io", "ban").await;
    assert_eq!(s, 404, "the refused create_user wrote nothing");
    let (s, v) = app
        .post(
            "/networks/{net}/user_status",
            json!({"user": "n9@x.io", "status_change": "create_user", "referrer": "11111111"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("code_not_found"))
    );
    let owner = app.connections("gold", "owner@x.io", "").await;
    assert_eq!(owner["downline_counts"]["1"], 2);
}

#[tokio::test]
async fn codes_of_another_network_are_unknown() {
    let a = App::new().await;
    let b = App::new().await;
    let v = codes(&a, "p", "owner@x.io").await;
    let code = v["codes"][0]["code"].as_str().unwrap().to_owned();
    let (s, v) = b
        .post(
            "/networks/{net}/user_status",
            json!({"user": "x@x.io", "status_change": "create_user", "referrer": code}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("code_not_found"))
    );
}

#[tokio::test]
async fn ban_deactivates_codes() {
    let app = App::new().await;
    app.put("/networks/{net}/connections/q", json!({})).await;
    let p = codes(&app, "p", "owner@x.io").await;
    let q = codes(&app, "q", "owner@x.io").await;
    let (s, v) = app.status("owner@x.io", "ban").await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "banned");
    assert_eq!(v["connection"], Value::Null);
    let p2 = codes(&app, "p", "owner@x.io").await;
    let q2 = codes(&app, "q", "owner@x.io").await;
    assert_eq!(p2["codes"][0]["code"], p["codes"][0]["code"]);
    assert_eq!(p2["codes"][0]["active"], false);
    assert_eq!(q2["codes"][0]["code"], q["codes"][0]["code"]);
    assert_eq!(q2["codes"][0]["active"], false);
    let code = p["codes"][0]["code"].as_str().unwrap();
    let (s, _) = app
        .post(
            "/networks/{net}/user_status",
            json!({"user": "new@x.io", "status_change": "create_user", "referrer": code}),
        )
        .await;
    assert_eq!(s, 403);
    // a banned user gets no new code
    app.put("/networks/{net}/connections/r", json!({})).await;
    let r = codes(&app, "r", "owner@x.io").await;
    assert_eq!(r["codes"], json!([]));
}
