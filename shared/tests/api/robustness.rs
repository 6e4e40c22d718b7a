use serde_json::{json, Value};
use shared::{AppState, Config};

use crate::harness::{decode, App};

const ROUTES: [(&str, &str); 6] = [
    ("PUT", "/networks/{net}/connections/p"),
    ("GET", "/networks/{net}/connections"),
    ("POST", "/networks/{net}/connections/p"),
    ("GET", "/networks/{net}/connections/p/users/a@x.io"),
    ("GET", "/networks/{net}/connections/p/users/a@x.io/codes"),
    ("POST", "/networks/{net}/user_status"),
];

/// Hostile bodies, paths and queries: always a 4xx in the contract's format, never a 5xx.
#[tokio::test]
async fn hostile_input_never_gets_a_5xx() {
    let app = App::new().await;
    let long = "x".repeat(5000);
    let bodies: Vec<String> = vec![
        "null".into(),
        "[]".into(),
        "5".into(),
        "\"s\"".into(),
        "{".into(),
        "{\"user\": \"\\udc00\"}".into(),
        json!({"user": long, "connection": long, "status_change": long}).to_string(),
        json!({"user": {}, "connection": [], "status_change": 1}).to_string(),
        json!({"user": "a@x.io", "connection": "b@x.io", "metadata": long}).to_string(),
        json!({"name": long, "max_levels": 1e30}).to_string(),
        json!({"max_levels": 3.5, "max_referrals_per_code": 1e20}).to_string(),
        json!({"user": "a@x.io", "status_change": "create_user", "referrer": long, "referral_program_id": long}).to_string(),
        json!({"user": "a@x.io", "status_change": "create_user", "referrer": "b@x.io", "referral_program_id": "bad id"}).to_string(),
    ];
    for (m, p) in ROUTES {
        for b in &bodies {
            let body = if m == "GET" { None } else { Some(b.clone()) };
            let req = app.request(m, p, body, None);
            let (s, v) = decode(app.dispatch(m, p, req).await);
            assert!(s < 500, "{m} {p} {b}: {s} {v}");
        }
    }
    // raw invalid UTF-8
    let mut ev: Value =
        serde_json::from_str(include_str!("../../../events/add-connection.json")).unwrap();
    ev["isBase64Encoded"] = json!(true);
    ev["body"] = json!("/////w==");
    ev["pathParameters"]["network_id"] = json!(app.net);
    ev["headers"]["authorization"] = json!(format!("Bearer {}", app.key));
    let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
    let (s, v) = decode(
        shared::api::add_connection::handle(app.state, req)
            .await
            .unwrap(),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );

    let weird_paths = [
        "/networks/{net}/connections/p/users/%ZZ",
        "/networks/{net}/connections/p/users/%FF%FE",
        "/networks/{net}/connections/p/users/a@x.io?limit=99999999999999999999",
        "/networks/{net}/connections/p/users/a@x.io?level=255",
        "/networks/{net}/connections/p/users/a@x.io?cursor=%00",
        "/networks/{net}/connections?cursor=AAAA",
    ];
    for p in weird_paths {
        let (s, v) = app.get(p).await;
        assert!((400..500).contains(&s), "{p}: {s} {v}");
    }
    let long_user = format!("/networks/{{net}}/connections/p/users/{}", "a".repeat(3000));
    let (s, _) = app.get(&long_user).await;
    assert_eq!(s, 400);
    let long_net = format!("/networks/{}/connections", "n".repeat(65));
    let (s, _) = app.get(&long_net).await;
    assert_eq!(s, 400);
}

/// An unreachable DynamoDB is a prompt 503 with Retry-After and nothing internal.
#[tokio::test]
async fn unreachable_store_is_503_with_retry_after() {
    let app = App::new().await;
    let conf = shared::sdk_config()
        .await
        .to_builder()
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let config =
        Config::from_lookup(|k| (k == "TABLE_NAME").then(|| crate::harness::TABLE.into())).unwrap();
    let down: &'static AppState = Box::leak(Box::new(AppState::new(
        config,
        aws_sdk_dynamodb::Client::from_conf(conf),
    )));
    let req = app.request(
        "POST",
        "/networks/{net}/connections/p",
        Some(json!({"user": "a@x.io", "connection": "b@x.io"}).to_string()),
        None,
    );
    let resp = shared::api::add_connection::handle(down, req)
        .await
        .unwrap();
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let (s, v) = decode(resp);
    assert_eq!((s, v["error"]["code"].as_str()), (503, Some("unavailable")));
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        !msg.contains("127.0.0.1") && !msg.to_lowercase().contains("dispatch"),
        "{msg}"
    );
}

/// A program item written behind the store's back with an impossible `max_levels`: the read
/// that maps it answers a plain 500 and logs why; nothing panics.
#[tokio::test]
async fn a_corrupt_stored_program_is_a_logged_500() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let app = App::new().await;
    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);
    let net = shared::domain::NetworkId::try_from(app.net.as_str()).expect("net");
    let prog = shared::domain::ProgramId::try_from("p").expect("prog");
    let (pk, sk) = shared::store::keys::program(&net, &prog);
    app.client
        .update_item()
        .table_name(crate::harness::TABLE)
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk))
        .update_expression("SET max_levels = :m")
        .expression_attribute_values(":m", AttributeValue::N("40".into()))
        .send()
        .await
        .expect("update");
    let (s, v) = app.get("/networks/{net}/connections/p/users/a@x.io").await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(v["error"]["code"], "internal");
    assert!(
        !v.to_string().contains("max_levels"),
        "nothing internal: {v}"
    );
    let logs = crate::harness::logs();
    assert!(
        logs.contains("stored max_levels is invalid"),
        "the cause is logged"
    );
}
