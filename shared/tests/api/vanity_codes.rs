//! Chosen (vanity) codes and expiring codes: Create Code, PATCH Code, and the links they make.

use std::time::Duration;

use serde_json::{json, Value};
use shared::domain::ReferralCode;

use crate::harness::App;

const CODES: &str = "/networks/{net}/connections/p/users";

async fn create(app: &App, owner: &str, body: Value) -> (u16, Value) {
    app.post(&format!("{CODES}/{owner}/codes"), body).await
}

async fn patch(app: &App, code: &str, body: Value) -> (u16, Value) {
    app.call(
        "PATCH",
        &format!("/networks/{{net}}/codes/{code}"),
        Some(body),
        None,
    )
    .await
}

async fn signup(app: &App, user: &str, code: &str) -> (u16, Value) {
    app.post(
        "/networks/{net}/user_status",
        json!({"user": user, "status_change": "create_user", "referrer": code}),
    )
    .await
}

/// The owner's code `code` as GET Connection Codes shows it.
async fn shown(app: &App, owner: &str, code: &str) -> Value {
    let (s, v) = app.get(&format!("{CODES}/{owner}/codes")).await;
    assert_eq!(s, 200, "{v}");
    v["codes"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["code"] == code))
        .cloned()
        .unwrap_or_else(|| panic!("{code} not among {v}"))
}

fn error(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

fn rfc3339_in(ms: u64) -> String {
    shared::clock::rfc3339_ms(shared::clock::now_ms() + ms)
}

#[tokio::test]
async fn racing_creations_in_two_letter_cases_end_with_one_code() {
    let app = App::new().await;
    let calls = (0..10).map(|i| {
        let text = if i % 2 == 0 { "Summer" } else { "SUMMER" };
        let owner = format!("o{i}@x.io");
        let app = &app;
        async move {
            (
                owner.clone(),
                create(app, &owner, json!({"code": text})).await,
            )
        }
    });
    let got = futures::future::join_all(calls).await;
    let won: Vec<_> = got.iter().filter(|(_, (s, _))| *s == 201).collect();
    assert_eq!(won.len(), 1, "{got:?}");
    for (_, (s, v)) in &got {
        assert!(
            *s == 201 || (*s == 409 && error(v) == "code_taken"),
            "{s} {v}"
        );
    }
    let (owner, (_, v)) = won[0];
    let text = v["code"]["code"].as_str().unwrap();
    assert_eq!(v["code"]["status"], "active");
    assert_eq!(v["code"]["expires_at"], Value::Null);
    // found whatever its case, by a signup and by PATCH
    let (s, v) = signup(&app, "fan@x.io", "sUmMeR").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["connection"]["referrer"], owner.as_str());
    let (s, v) = patch(&app, "summer", json!({"max_referrals": 5})).await;
    assert_eq!((s, v["code"]["code"].as_str()), (200, Some(text)), "{v}");
    assert_eq!(v["code"]["total_referrals"], 1);
    // another network has a namespace of its own
    let other = App::new().await;
    let (s, v) = create(&other, "z@x.io", json!({"code": "summer"})).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = signup(&other, "fan2@x.io", "SUMMER").await;
    assert_eq!(
        (s, v["connection"]["referrer"].as_str()),
        (201, Some("z@x.io"))
    );
    assert_eq!(shown(&app, owner, text).await["total_referrals"], 1);
    app.check().await;
    other.check().await;
}

#[tokio::test]
async fn reserved_and_malformed_codes_are_refused_and_write_nothing() {
    let app = App::new().await;
    for (body, status, code) in [
        (json!({"code": "admin"}), 409, "code_reserved"),
        (json!({"code": "NuLL"}), 409, "code_reserved"),
        (json!({"code": ""}), 400, "invalid_code"),
        (json!({"code": "ab"}), 400, "invalid_code"),
        (json!({"code": "spring sale"}), 400, "invalid_code"),
        (json!({"code": "x".repeat(33)}), 400, "invalid_code"),
        (
            json!({"code": "Spring", "expires_at": "2020-01-01T00:00:00Z"}),
            400,
            "invalid_expires_at",
        ),
        (
            json!({"code": "Spring", "expires_at": "soon"}),
            400,
            "invalid_expires_at",
        ),
        (
            json!({"code": "Spring", "max_referrals": 2_000_000_000u64}),
            400,
            "invalid_max_referrals",
        ),
        (
            json!({"code": "Spring", "max_referrals": -1}),
            400,
            "invalid_body",
        ),
    ] {
        let (s, v) = create(&app, "o@x.io", body.clone()).await;
        assert_eq!((s, error(&v)), (status, code), "{body}: {v}");
    }
    let (s, v) = app
        .post(
            "/networks/{net}/connections/none/users/o@x.io/codes",
            json!({}),
        )
        .await;
    assert_eq!((s, error(&v)), (404, "program_not_found"));
    let (s, v) = app
        .call(
            "POST",
            &format!("{CODES}/o@x.io/codes"),
            Some(json!({})),
            Some("nope"),
        )
        .await;
    assert_eq!((s, error(&v)), (401, "unauthorized"), "{v}");
    // nothing was taken: the refused ones' texts are free, and the owner made no code
    let (s, v) = create(&app, "o@x.io", json!({"code": "Spring"})).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = create(&app, "o@x.io", json!({})).await;
    assert_eq!(s, 201, "{v}");
    let drawn = v["code"]["code"].as_str().unwrap();
    assert_eq!(drawn.len(), 8, "{v}");
    let (_, v) = app.get(&format!("{CODES}/o@x.io/codes")).await;
    assert_eq!(v["codes"].as_array().map(Vec::len), Some(2), "{v}");
    // an unknown code, and a malformed one
    let (s, v) = patch(&app, "Autumn", json!({"active": false})).await;
    assert_eq!((s, error(&v)), (404, "code_not_found"));
    let (s, v) = patch(&app, "no%20way", json!({"active": false})).await;
    assert_eq!((s, error(&v)), (400, "invalid_code"), "{v}");
    app.check().await;
}

#[tokio::test]
async fn a_code_that_expires_between_two_signups_counts_the_first_only() {
    let app = App::new().await;
    let (s, v) = create(
        &app,
        "o@x.io",
        json!({"code": "Flash-Sale", "expires_at": rfc3339_in(1_500)}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let expires = v["code"]["expires_at"].as_str().unwrap().to_owned();
    let (s, v) = signup(&app, "a@x.io", "flash-sale").await;
    assert_eq!(s, 201, "{v}");
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let (s, v) = signup(&app, "b@x.io", "Flash-Sale").await;
    assert_eq!((s, error(&v)), (409, "code_unavailable"), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("expired"),
        "{v}"
    );
    let c = shown(&app, "o@x.io", "Flash-Sale").await;
    assert_eq!(
        (c["status"].as_str(), c["total_referrals"].as_u64()),
        (Some("expired"), Some(1))
    );
    assert_eq!(c["expires_at"], expires.as_str());
    let (s, _) = app.status("b@x.io", "ban").await;
    assert_eq!(s, 404, "the refused signup wrote nothing");
    // PATCH clears the expiry: the code counts again
    let (s, v) = patch(&app, "FLASH-SALE", json!({"expires_at": null})).await;
    assert_eq!(
        (s, v["code"]["status"].as_str()),
        (200, Some("active")),
        "{v}"
    );
    assert_eq!(v["code"]["expires_at"], Value::Null);
    let (s, v) = signup(&app, "b@x.io", "Flash-Sale").await;
    assert_eq!(s, 201, "{v}");
    // and a time already past ends it now
    let (s, v) = patch(
        &app,
        "Flash-Sale",
        json!({"expires_at": "2021-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        (s, v["code"]["status"].as_str()),
        (200, Some("expired")),
        "{v}"
    );
    let (s, _) = signup(&app, "c@x.io", "Flash-Sale").await;
    assert_eq!(s, 409);
    assert_eq!(
        shown(&app, "o@x.io", "Flash-Sale").await["total_referrals"],
        2
    );
    app.check().await;
}

/// Signups racing the expiry instant: each counts before it, or is refused; none counts after.
#[tokio::test]
async fn signups_racing_the_expiry_never_count_after_it() {
    let app = App::new().await;
    let (s, v) = create(
        &app,
        "o@x.io",
        json!({"code": "Mid-Night", "max_referrals": 0, "expires_at": rfc3339_in(400)}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let expires = v["code"]["expires_at"].as_str().unwrap().to_owned();
    let calls = (0..40).map(|i| {
        let app = &app;
        async move {
            tokio::time::sleep(Duration::from_millis(i * 20)).await;
            signup(app, &format!("u{i}@x.io"), "Mid-Night").await
        }
    });
    let got = futures::future::join_all(calls).await;
    let mut counted = 0;
    for (s, v) in &got {
        match s {
            201 => {
                counted += 1;
                let at = v["connection"]["created_at"].as_str().unwrap();
                assert!(
                    at < expires.as_str(),
                    "connected at {at}, expired at {expires}"
                );
            }
            409 => assert_eq!(error(v), "code_unavailable", "{v}"),
            _ => panic!("{s} {v}"),
        }
    }
    assert!(
        counted > 0 && counted < 40,
        "{counted} counted: the burst spans the instant"
    );
    let c = shown(&app, "o@x.io", "Mid-Night").await;
    assert_eq!(c["total_referrals"], counted);
    assert_eq!(c["status"], "expired");
    app.check().await;
}

#[tokio::test]
async fn a_full_capped_code_says_full_and_patch_reopens_it() {
    let app = App::new().await;
    let (s, v) = create(
        &app,
        "o@x.io",
        json!({"code": "Two-Only", "max_referrals": 2}),
    )
    .await;
    assert_eq!((s, v["code"]["max_referrals"].as_u64()), (201, Some(2)));
    for u in ["a@x.io", "b@x.io"] {
        assert_eq!(signup(&app, u, "two-only").await.0, 201);
    }
    let (s, v) = signup(&app, "c@x.io", "two-only").await;
    assert_eq!((s, error(&v)), (409, "code_unavailable"));
    assert!(
        v["error"]["message"].as_str().unwrap().contains("maximum"),
        "{v}"
    );
    assert_eq!(shown(&app, "o@x.io", "Two-Only").await["status"], "full");
    let (s, v) = patch(
        &app,
        "Two-Only",
        json!({"active": false, "max_referrals": 3}),
    )
    .await;
    assert_eq!(
        (s, v["code"]["status"].as_str()),
        (200, Some("inactive")),
        "{v}"
    );
    let (s, v) = signup(&app, "c@x.io", "two-only").await;
    assert!(
        v["error"]["message"].as_str().unwrap().contains("inactive"),
        "{s} {v}"
    );
    let (s, _) = patch(&app, "Two-Only", json!({"active": true})).await;
    assert_eq!(s, 200);
    assert_eq!(signup(&app, "c@x.io", "two-only").await.0, 201);
    assert_eq!(shown(&app, "o@x.io", "Two-Only").await["status"], "full");
    app.check().await;
}

/// The DeSo routes read hashes only: a vanity code of the hash form is one.
#[tokio::test]
async fn the_deso_routes_read_vanity_codes_of_the_hash_form_only() {
    let app = App::new().await;
    // a hash is unique in the whole table: one of this run's own
    let hash = format!("Sp{}", &ReferralCode::generate().unwrap().as_str()[..6]);
    assert_eq!(create(&app, "o@x.io", json!({"code": hash})).await.0, 201);
    assert_eq!(
        create(&app, "o@x.io", json!({"code": "Spring-26"})).await.0,
        201
    );
    let (s, v) = app
        .deso(
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": hash}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["ReferralInfoResponse"]["Info"]["ReferralHashBase58"],
        hash.as_str()
    );
    let (s, _) = app
        .deso(
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": "Spring-26"}),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn round_trips_of_the_code_routes() {
    let app = App::new().await;
    app.trips(
        "create code",
        2,
        create(&app, "o@x.io", json!({"code": "Trips"})),
    )
    .await;
    app.trips(
        "create code, expiring",
        2,
        create(&app, "o@x.io", json!({"expires_at": rfc3339_in(60_000)})),
    )
    .await;
    // the key's GetItem beside the code's BatchGetItem, then the code's read and its write
    app.trips(
        "patch code",
        4,
        patch(&app, "Trips", json!({"max_referrals": 9})),
    )
    .await;
    app.trips(
        "patch code, other case",
        5,
        patch(&app, "TRIPS", json!({"active": true})),
    )
    .await;
    // as through a drawn code: the key, the code (its name read beside it), the link's read
    // and its transaction
    app.trips(
        "signup through a vanity code",
        4,
        signup(&app, "u@x.io", "Trips"),
    )
    .await;
}
