//! DeSo's web frontend, replayed: every DeSo request is sent with the body of its file in
//! events/, which holds the field set `backend-api.service.ts` builds (the empty `Username`,
//! `CountryAlpha3: ""`, `PublicKey` on jumio-begin, the multipart field names of the upload),
//! and every answer has the fields the frontend reads.

use serde_json::{json, Value};

use crate::harness::{deso_jwt, deso_public_key, App, SUPER_ADMIN};

/// The events' demo users: who begins a sign-up, and who is credited.
const USER: u8 = 0xb2;
const CREDITED: u8 = 0xc3;
const DEMO_HASH: &str = "ReFnetD1";

fn event_body(route: &str) -> String {
    let file = route.replace('/', "-");
    let path = format!("{}/../events/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("event")).expect("event json");
    event["body"].as_str().expect("a body").to_owned()
}

/// The event's body as the frontend sends it, with fresh JWTs, the test's hash, and `who`
/// as the user the request names.
fn frontend_body(route: &str, hash: &str, who: u8) -> Value {
    let mut body: Value = serde_json::from_str(&event_body(route)).expect("a JSON body");
    let fields = body.as_object_mut().expect("an object");
    let admin = fields.contains_key("AdminPublicKey");
    fields.insert(
        "JWT".into(),
        json!(deso_jwt(if admin { SUPER_ADMIN } else { who })),
    );
    for (field, value) in fields.iter_mut() {
        match field.as_str() {
            "ReferralHashBase58" | "ReferralHash" => *value = json!(hash),
            "PublicKey" | "PublicKeyBase58Check" => *value = json!(deso_public_key(who)),
            _ => {}
        }
    }
    body
}

async fn replay(app: &App, route: &str, hash: &str, who: u8) -> Value {
    let (s, v) = app.deso(route, frontend_body(route, hash, who)).await;
    assert_eq!(s, 200, "{route}: {v}");
    v
}

fn has(v: &Value, fields: &[&str], what: &str) {
    for f in fields {
        assert!(v.get(f).is_some(), "{what} lacks {f}: {v}");
    }
}

const INFO: [&str; 11] = [
    "ReferralHashBase58",
    "ReferrerPKID",
    "ReferrerAmountUSDCents",
    "RefereeAmountUSDCents",
    "MaxReferrals",
    "RequiresJumio",
    "NumJumioAttempts",
    "NumJumioSuccesses",
    "TotalReferrals",
    "TotalReferrerDeSoNanos",
    "DateCreatedTStampNanos",
];

#[tokio::test]
async fn deso_frontend_requests_work_as_sent() {
    let app = App::new().await;
    let body = frontend_body("admin/create-referral-hash", DEMO_HASH, USER);
    assert_eq!(body["Username"], "", "the frontend sends an empty Username");
    let created = replay(&app, "admin/create-referral-hash", DEMO_HASH, USER).await;
    let made = &created["ReferralInfoResponse"];
    has(made, &["IsActive", "Info", "ReferredUsers"], "create");
    assert_eq!(made["ReferredUsers"], Value::Null, "DeSo answers null");
    has(&made["Info"], &INFO, "create Info");
    let hash = made["Info"]["ReferralHashBase58"]
        .as_str()
        .expect("hash")
        .to_owned();

    for (route, field) in [
        (
            "admin/set-usd-cents-to-deso-reserve-exchange-rate",
            "USDCentsPerDeSo",
        ),
        ("admin/update-jumio-usd-cents", "USDCents"),
        ("admin/update-jumio-kickback-usd-cents", "USDCents"),
    ] {
        let v = replay(&app, route, &hash, USER).await;
        has(&v, &[field], route);
    }
    replay(
        &app,
        "admin/update-jumio-country-sign-up-bonus",
        &hash,
        USER,
    )
    .await;
    let (s, rate) = app
        .call(
            "GET",
            "/api/v0/admin/get-usd-cents-to-deso-reserve-exchange-rate",
            None,
            None,
        )
        .await;
    assert_eq!(s, 200, "{rate}");
    assert_eq!(rate["USDCentsPerDeSo"], 1000);

    let bonuses = replay(
        &app,
        "admin/get-all-country-level-sign-up-bonuses",
        &hash,
        USER,
    )
    .await;
    has(
        &bonuses,
        &["SignUpBonusMetadata", "DefaultSignUpBonusMetadata"],
        "bonuses",
    );
    let us = &bonuses["SignUpBonusMetadata"]["United States of America"];
    has(
        &us["CountryCodeDetails"],
        &["Name", "CountryCode", "Alpha3"],
        "country",
    );
    assert_eq!(us["CountryCodeDetails"]["Alpha3"], "USA");
    assert_eq!(
        us["CountryLevelSignUpBonus"]["ReferralAmountOverrideUSDCents"], 300,
        "the event's bonus is set for the alpha-3 the admin page sends"
    );

    let info = replay(&app, "get-referral-info-for-referral-hash", &hash, USER).await;
    has(
        &info,
        &["ReferralInfoResponse", "CountrySignUpBonus"],
        "hash info",
    );
    // The public answer is DeSo's SimpleReferralInfo.
    has(
        &info["ReferralInfoResponse"]["Info"],
        &[
            "ReferralHashBase58",
            "RefereeAmountUSDCents",
            "MaxReferrals",
            "TotalReferrals",
        ],
        "hash Info",
    );

    // Two sign-ups begun as the frontend begins them (PublicKey, SuccessURL, ErrorURL).
    for who in [USER, CREDITED] {
        let body = frontend_body("jumio-begin", &hash, who);
        assert!(body.get("PublicKey").is_some() && body.get("SuccessURL").is_some());
        let v = replay(&app, "jumio-begin", &hash, who).await;
        assert_eq!(v, json!({"URL": ""}));
    }
    let mut callback = frontend_body("admin/jumio-callback", &hash, CREDITED);
    assert_eq!(callback["CountryAlpha3"], "", "the frontend's default");
    callback["PublicKeyBase58Check"] = json!(deso_public_key(CREDITED));
    let (s, v) = app.deso("admin/jumio-callback", callback).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["Credited"], true);
    assert_eq!(v["ReferralCounted"], true);
    assert_eq!(
        v["RefereeAmountUSDCents"], 250,
        "no country: the default bonus, the jumio amount (no custom referral amount)"
    );

    let mut all = frontend_body("admin/get-all-referral-info-for-user", &hash, USER);
    all["UserPublicKeyBase58Check"] = json!(deso_public_key(SUPER_ADMIN));
    let (s, v) = app.deso("admin/get-all-referral-info-for-user", all).await;
    assert_eq!(s, 200, "{v}");
    let listed = &v["ReferralInfoResponses"][0];
    has(listed, &["IsActive", "Info", "ReferredUsers"], "listed");
    assert_eq!(listed["Info"]["NumJumioSuccesses"], 1);
    assert_eq!(
        listed["ReferredUsers"][0]["PublicKeyBase58Check"],
        deso_public_key(CREDITED)
    );

    let updated = replay(&app, "admin/update-referral-hash", &hash, USER).await;
    assert_eq!(
        updated["ReferralInfoResponse"]["ReferredUsers"],
        Value::Null
    );
    assert_eq!(updated["ReferralInfoResponse"]["Info"]["MaxReferrals"], 20);

    let mine = replay(&app, "get-referral-info-for-user", &hash, USER).await;
    has(&mine, &["ReferralInfoResponses"], "user info");

    let rows = replay(&app, "admin/download-referral-csv", &hash, USER).await;
    assert!(rows["CSVRows"].as_array().is_some_and(|r| r.len() >= 2));

    // The upload as the frontend posts it: file, UserPublicKeyBase58Check (the admin), JWT.
    let raw = event_body("admin/upload-referral-csv");
    assert!(raw.contains("name=\"UserPublicKeyBase58Check\""));
    assert!(!raw.contains("name=\"AdminPublicKey\""));
    let stale = raw
        .split("name=\"JWT\"\r\n\r\n")
        .nth(1)
        .and_then(|t| t.split("\r\n").next())
        .expect("a JWT part");
    let body = raw.replace(stale, &deso_jwt(SUPER_ADMIN));
    let (s, v) = app
        .deso_raw(
            "admin/upload-referral-csv",
            body,
            &[(
                "content-type",
                "multipart/form-data; boundary=refnetBoundary7MA4YWxk",
            )],
        )
        .await;
    assert_eq!(s, 200, "{v}");
    has(&v, &["LinksCreated", "LinksUpdated"], "upload");
    assert_eq!(v["LinksCreated"], 1);
}
