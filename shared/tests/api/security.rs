//! What an attacker or a careless admin tries: one key as two users, replayed uploads, long-lived
//! admin tokens, lookalike emails, double-decoded paths, stolen keys; and the limits that held.

use deso_sign as sign;
use serde_json::{json, Value};
use shared::domain::ids::DesoNetwork;

use crate::deso::{code_info, create_hash, download, info, money, multipart, upload, OWNER};
use crate::harness::{
    as_admin, as_user, decode, deso_jwt, deso_public_key, signer, with_logs, App, ADMIN,
    SUPER_ADMIN,
};

/// The testnet text of signer `seed`'s key: the same 33 bytes as its mainnet text.
fn testnet_text(seed: u8) -> String {
    sign::public_key_on(&signer(seed), DesoNetwork::Testnet)
}

#[tokio::test]
async fn one_private_key_is_one_user() {
    let app = App::new().await;
    money(&app, 1000, 200, 300).await;
    let code = create_hash(&app, OWNER, 1000, 500, 0).await;
    let other_text = testnet_text(OWNER);
    assert!(other_text.starts_with("tBC"));

    // The owner's key in testnet text, with a JWT the owner signed: refused, naming the prefix.
    let (s, v) = app
        .deso(
            "jumio-begin",
            json!({"PublicKeyBase58Check": other_text, "JWT": deso_jwt(OWNER), "ReferralHashBase58": code}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("BC1YL"), "{v}");
    let (s, _) = app
        .deso(
            "admin/jumio-callback",
            as_admin(SUPER_ADMIN, json!({"PublicKeyBase58Check": other_text})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .deso(
            "get-referral-info-for-user",
            json!({"PublicKeyBase58Check": other_text, "JWT": deso_jwt(OWNER)}),
        )
        .await;
    assert_eq!(s, 400);

    // In its one accepted text, the owner's own sign-up is a self-referral: credited once, never
    // counted, never paid a kickback.
    let (s, _) = crate::deso::begin(&app, OWNER, &code).await;
    assert_eq!(s, 200);
    for (credited, kickback) in [(true, 0), (false, 0)] {
        let (s, v) = crate::deso::callback(&app, OWNER).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["Credited"], credited, "{v}");
        assert_eq!(v["ReferralCounted"], false, "{v}");
        assert_eq!(v["ReferrerAmountUSDCents"], kickback, "{v}");
    }
    let i = code_info(&info(&app, OWNER).await, &code);
    assert_eq!(i["Info"]["TotalReferrals"], 0);
    assert_eq!(i["Info"]["NumJumioSuccesses"], 0);

    // The Connections API takes the same rule, as user, as referrer and in User Status.
    for (user, referrer) in [
        (other_text.as_str(), "a@x.io"),
        ("a@x.io", other_text.as_str()),
    ] {
        let (s, v) = app.link("p", user, referrer).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some("invalid_user")),
            "{v}"
        );
    }
    let (s, _) = app
        .post(
            "/networks/{net}/user_status",
            json!({"user": other_text, "status_change": "create_user"}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .get(&format!(
            "/networks/{{net}}/connections/p/users/{other_text}/codes"
        ))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_repeated_upload_applies_again() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 0).await;
    let header = shared::domain::referral_csv::HEADER.join(",");
    let file = |amount: u32| format!("{header}\n{code},,,{amount},1,0,false,,,,,,\n");
    for amount in [111, 222, 111] {
        let (s, v) = upload(&app, SUPER_ADMIN, &file(amount)).await;
        assert_eq!(
            (s, v.clone()),
            (200, json!({"LinksCreated": 0, "LinksUpdated": 1}))
        );
        let rows = download(&app).await;
        let row = rows.iter().find(|r| r[0] == code).unwrap();
        assert_eq!(row[3], amount.to_string(), "the upload of {amount} holds");
    }
}

#[tokio::test]
async fn admin_tokens_are_short_lived_and_nbf_holds() {
    let app = App::new().await;
    let now = shared::clock::now_secs();
    let token = |claims: Value| {
        sign::jwt(
            &signer(SUPER_ADMIN),
            &json!({"alg": "ES256", "typ": "JWT"}),
            &claims,
        )
    };
    let admin_key = deso_public_key(SUPER_ADMIN);
    for (what, claims) in [
        ("no exp", json!({"iat": now})),
        ("exp of 1e308", json!({"iat": now, "exp": 1e308})),
        ("two hours", json!({"iat": now, "exp": now + 7200})),
        (
            "not before an hour from now",
            json!({"iat": now, "exp": now + 600, "nbf": now + 3600}),
        ),
    ] {
        let (s, v) = app
            .deso(
                "admin/update-jumio-usd-cents",
                json!({"AdminPublicKey": admin_key, "JWT": token(claims), "USDCents": 5}),
            )
            .await;
        assert_eq!(s, 401, "{what}: {v}");
    }
    // user routes still take a token without exp, but not one that is not valid yet
    let user = |claims: Value| json!({"PublicKeyBase58Check": deso_public_key(SUPER_ADMIN), "JWT": token(claims)});
    let (s, _) = app
        .deso("get-referral-info-for-user", user(json!({"iat": now})))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .deso(
            "get-referral-info-for-user",
            user(json!({"iat": now, "nbf": now + 3600})),
        )
        .await;
    assert_eq!(s, 401);
    let (_, v) = app
        .deso(
            "admin/get-all-country-level-sign-up-bonuses",
            as_admin(ADMIN, json!({})),
        )
        .await;
    assert_eq!(
        v["DefaultSignUpBonusMetadata"]["ReferralAmountOverrideUSDCents"], 0,
        "nothing was written"
    );
}

#[tokio::test]
async fn lookalike_emails_are_refused_not_folded() {
    let app = App::new().await;
    let status = |user: &str, change: &str| {
        app.post(
            "/networks/{net}/user_status",
            json!({"user": user, "status_change": change}),
        )
    };
    assert_eq!(status("k@example.com", "create_user").await.0, 201);
    let (s, v) = status("\u{212a}@example.com", "ban").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_user")),
        "{v}"
    );
    let (s, v) = status("k@example.com", "create_user").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("active")), "{v}");
    let (s, _) = app.link("p", "\u{ff4b}@example.com", "k@example.com").await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn path_parameters_are_decoded_once() {
    let app = App::new().await;
    assert_eq!(app.link("p", "p%41@x.io", "r@x.io").await.0, 201);
    // As HTTP API sends it: rawPath still encoded, pathParameters already decoded.
    let mut ev: Value =
        serde_json::from_str(include_str!("../../../events/get-user-connections.json")).unwrap();
    let raw = format!("/networks/{}/connections/p/users/p%2541%40x.io", app.net);
    ev["rawPath"] = json!(raw);
    ev["requestContext"]["http"]["path"] = json!(raw);
    ev["rawQueryString"] = json!("");
    ev.as_object_mut().unwrap().remove("queryStringParameters");
    ev["pathParameters"] = json!({"network_id": app.net, "program_id": "p", "user": "p%41@x.io"});
    ev["headers"]["authorization"] = json!(format!("Bearer {}", app.key));
    let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
    let (s, v) = decode(
        shared::api::get_user_connections::handle(app.state, req)
            .await
            .unwrap(),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["user"], "p%41@x.io");
    assert_eq!(v["referrer"], "r@x.io");
}

#[tokio::test]
async fn keys_can_be_rotated_and_revoked() {
    let app = App::new().await;
    let net = shared::domain::NetworkId::try_from(app.net.as_str()).unwrap();
    let store = &app.state.store;
    let app = &app;
    let list = |key: String| async move {
        app.call("GET", "/networks/{net}/connections", None, Some(&key))
            .await
            .0
    };
    assert_eq!(list(app.key.clone()).await, 200);
    let new = shared::auth::generate_key().unwrap();
    let hash = shared::auth::hash_key;
    use shared::store::api_keys::KeyChange;
    assert_eq!(
        store
            .rotate_key(&net, &hash(&app.key), &hash(&new))
            .await
            .unwrap(),
        KeyChange::Done
    );
    assert_eq!(list(app.key.clone()).await, 401, "the old key is gone");
    assert_eq!(list(new.clone()).await, 200);
    // another network cannot revoke it, and a revoked key is refused at once
    let other = shared::domain::NetworkId::try_from("someone-else").unwrap();
    assert_eq!(
        store.revoke_key(&other, &hash(&new)).await.unwrap(),
        KeyChange::NotFound
    );
    assert_eq!(
        store.revoke_key(&net, &hash(&new)).await.unwrap(),
        KeyChange::Done
    );
    assert_eq!(list(new).await, 401);
}

const CONNECTION_ROUTES: [(&str, &str); 6] = [
    ("PUT", "/networks/{net}/connections/p"),
    ("GET", "/networks/{net}/connections"),
    ("POST", "/networks/{net}/connections/p"),
    ("GET", "/networks/{net}/connections/p/users/a@x.io"),
    ("GET", "/networks/{net}/connections/p/users/a@x.io/codes"),
    ("POST", "/networks/{net}/user_status"),
];

fn body_of(method: &str) -> Option<Value> {
    (method != "GET")
        .then(|| json!({"user": "a@x.io", "connection": "b@x.io", "status_change": "create_user"}))
}

#[tokio::test]
async fn bearer_keys_are_exact() {
    let app = App::new().await;
    let other = App::new().await;
    let long = "k".repeat(513);
    let headers = [
        String::new(),
        "Bearer".into(),
        "Bearer ".into(),
        format!("Basic {}", app.key),
        format!("Bearer {} extra", app.key),
        format!("Bearer {}", app.key.to_uppercase()),
        format!("Bearer {long}"),
        format!("Token {}", app.key),
    ];
    for (m, p) in CONNECTION_ROUTES {
        for h in &headers {
            let mut req = app.request(m, p, body_of(m).map(|b| b.to_string()), Some(""));
            if !h.is_empty() {
                req.headers_mut()
                    .insert("authorization", h.parse().unwrap());
            }
            let (s, v) = decode(app.dispatch(m, p, req).await);
            assert_eq!(s, 401, "{m} {p} with {:.40}: {v}", h);
        }
        // network B's key on network A
        let (s, v) = app.call(m, p, body_of(m), Some(&other.key)).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{m} {p}"
        );
    }
}

#[tokio::test]
async fn another_network_s_code_is_unknown_everywhere() {
    let app = App::new().await;
    let other = App::new().await;
    let (_, v) = other
        .get("/networks/{net}/connections/p/users/owner@x.io/codes")
        .await;
    let code = v["codes"][0]["code"].as_str().unwrap().to_owned();
    let (s, v) = app
        .post(
            "/networks/{net}/user_status",
            json!({"user": "n@x.io", "status_change": "create_user", "referrer": code}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("code_not_found"))
    );
    for (route, body) in [
        (
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": code}),
        ),
        (
            "jumio-begin",
            as_user(0x61, json!({"ReferralHashBase58": code})),
        ),
        (
            "admin/update-referral-hash",
            as_admin(
                SUPER_ADMIN,
                json!({"ReferralHashBase58": code, "ReferrerAmountUSDCents": 1, "RefereeAmountUSDCents": 1, "MaxReferrals": 0, "RequiresJumio": false, "IsActive": true}),
            ),
        ),
    ] {
        let (s, v) = app.deso(route, body).await;
        assert_eq!(s, 404, "{route}: {v}");
    }
}

const SUPER_ADMIN_ROUTES: [&str; 9] = [
    "admin/create-referral-hash",
    "admin/update-referral-hash",
    "admin/get-all-referral-info-for-user",
    "admin/download-referral-csv",
    "admin/update-jumio-country-sign-up-bonus",
    "admin/update-jumio-usd-cents",
    "admin/update-jumio-kickback-usd-cents",
    "admin/set-usd-cents-to-deso-reserve-exchange-rate",
    "admin/jumio-callback",
];

#[tokio::test]
async fn an_ordinary_admin_is_refused_on_every_super_admin_route() {
    let app = App::new().await;
    let body = json!({"UserPublicKeyBase58Check": deso_public_key(OWNER), "PublicKeyBase58Check": deso_public_key(OWNER),
        "ReferralHashBase58": "11111111", "ReferrerAmountUSDCents": 1, "RefereeAmountUSDCents": 1, "MaxReferrals": 0,
        "RequiresJumio": false, "IsActive": true, "USDCents": 1, "USDCentsPerDeSo": 1, "CountryCode": "USA",
        "CountryLevelSignUpBonus": {"AllowCustomReferralAmount": false, "ReferralAmountOverrideUSDCents": 1,
            "AllowCustomKickbackAmount": false, "KickbackAmountOverrideUSDCents": 1}});
    for route in SUPER_ADMIN_ROUTES {
        let (s, v) = app.deso(route, as_admin(ADMIN, body.clone())).await;
        assert_eq!(s, 403, "{route}: {v}");
    }
    let header = shared::domain::referral_csv::HEADER.join(",");
    let (s, _) = upload(&app, ADMIN, &header).await;
    assert_eq!(s, 403);
}

/// A JSON body of exactly `len` bytes that Add Connection accepts.
fn padded_body(len: usize) -> String {
    let base =
        json!({"user": "pad@x.io", "connection": "b@x.io", "metadata": {"pad": ""}}).to_string();
    let pad = "x".repeat(len - base.len());
    json!({"user": "pad@x.io", "connection": "b@x.io", "metadata": {"pad": pad}}).to_string()
}

#[tokio::test]
async fn limits_hold() {
    let app = App::new().await;
    let max = shared::http::MAX_BODY;
    let post = |body: String| async {
        let p = "/networks/{net}/connections/p";
        let req = app.request("POST", p, Some(body), None);
        decode(app.dispatch("POST", p, req).await)
    };
    let body = padded_body(max);
    assert_eq!(body.len(), max);
    assert_eq!(post(body).await.0, 201, "64 KiB is accepted");
    let (s, v) = post(padded_body(max + 1)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (s, _) = app
        .deso_raw(
            "get-referral-info-for-referral-hash",
            "x".repeat(max + 1),
            &[],
        )
        .await;
    assert_eq!(s, 413);
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let (s, _) = post(deep.clone()).await;
    assert_eq!(s, 400, "deep nesting is refused, not a stack overflow");
    let (s, _) = app.deso_raw("jumio-begin", deep, &[]).await;
    assert_eq!(s, 400);
    for limit in ["0", "101", "-1", "abc", "1.5"] {
        for p in [
            "/networks/{net}/connections",
            "/networks/{net}/connections/p/users/a@x.io",
        ] {
            let (s, v) = app.get(&format!("{p}?limit={limit}")).await;
            assert_eq!(
                (s, v["error"]["code"].as_str()),
                (400, Some("invalid_limit")),
                "{p} limit={limit}"
            );
        }
    }
    let header = shared::domain::referral_csv::HEADER.join(",");
    let owner = deso_public_key(OWNER);
    let mut rows = header.clone();
    for _ in 0..1001 {
        rows.push_str(&format!("\n,,{owner},1,1,0,false,,,,,,"));
    }
    let (s, v) = upload(&app, SUPER_ADMIN, &rows).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("1000"), "{v}");
    let big = format!("{header}\n{}", "x".repeat(1024 * 1024));
    let (s, _) = upload(&app, SUPER_ADMIN, &big).await;
    assert_eq!(s, 413);
    assert_eq!(download(&app).await.len(), 1, "nothing was written");
}

#[tokio::test]
async fn downloaded_cells_never_start_a_formula() {
    let app = App::new().await;
    create_hash(&app, OWNER, 1, 2, 3).await;
    app.get("/networks/{net}/connections/p/users/=cmd@x.io/codes")
        .await;
    for row in download(&app).await {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let app = App::new().await;
    let other = App::new().await;
    let user_jwt = deso_jwt(0x71);
    let admin_jwt = deso_jwt(SUPER_ADMIN);
    let admin_key = deso_public_key(SUPER_ADMIN);
    let (body, ct) = multipart(SUPER_ADMIN, "not,a,header\n1,2,3");
    let calls = async {
        let mut statuses = Vec::new();
        // API key: accepted, refused as another network's, and malformed
        statuses.push(app.get("/networks/{net}/connections").await.0);
        statuses.push(
            other
                .call("GET", "/networks/{net}/connections", None, Some(&app.key))
                .await
                .0,
        );
        let extra = format!("{} extra", app.key);
        let bad = app.call("GET", "/networks/{net}/connections", None, Some(&extra));
        statuses.push(bad.await.0);
        // JWTs: good, and refused ones
        let mine = json!({"PublicKeyBase58Check": deso_public_key(0x71), "JWT": user_jwt});
        statuses.push(app.deso("get-referral-info-for-user", mine).await.0);
        let admin = json!({"AdminPublicKey": admin_key, "JWT": admin_jwt});
        statuses.push(app.deso("admin/download-referral-csv", admin).await.0);
        let stolen = json!({"AdminPublicKey": deso_public_key(ADMIN), "JWT": admin_jwt});
        statuses.push(app.deso("admin/download-referral-csv", stolen).await.0);
        // a CSV upload carrying the admin's key and JWT, with a bad file
        let headers = [("content-type", ct.as_str())];
        let upload = app.deso_raw("admin/upload-referral-csv", body.clone(), &headers);
        statuses.push(upload.await.0);
        statuses
    };
    let (statuses, log) = with_logs(calls).await;
    assert_eq!(statuses, [200, 403, 401, 200, 200, 401, 400]);
    let done = log.matches("request done").count();
    assert_eq!(
        done,
        statuses.len(),
        "each call's own log line was captured: {log}"
    );
    let jwt_in_form = body
        .split("name=\"JWT\"\r\n\r\n")
        .nth(1)
        .and_then(|r| r.split("\r\n").next())
        .unwrap_or_default()
        .to_owned();
    assert!(!jwt_in_form.is_empty());
    for (what, secret) in [
        ("API key", app.key.as_str()),
        ("user JWT", user_jwt.as_str()),
        ("admin JWT", admin_jwt.as_str()),
        ("JWT of the CSV form", jwt_in_form.as_str()),
        ("admin key", admin_key.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} reached the logs");
    }
}
