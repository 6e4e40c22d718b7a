use serde_json::{json, Value};

use crate::harness::App;

async fn status(app: &App, body: Value) -> (u16, Value) {
    app.post("/networks/{net}/user_status", body).await
}

#[tokio::test]
async fn create_user_then_again() {
    let app = App::new().await;
    let (s, v) = status(
        &app,
        json!({"user": "A@x.io", "status_change": "create_user", "send_email": true}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        v,
        json!({"user": "a@x.io", "status": "active", "connection": null})
    );
    let (s, v) = status(
        &app,
        json!({"user": "a@x.io", "status_change": "create_user"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "active");
}

#[tokio::test]
async fn create_user_with_a_user_referrer() {
    let app = App::new().await;
    let (s, v) = status(
        &app,
        json!({"user": "b@x.io", "status_change": "create_user", "referrer": "a@x.io"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("missing_referral_program_id"))
    );
    let (s, v) = status(&app, json!({"user": "b@x.io", "status_change": "create_user", "referrer": "a@x.io", "referral_program_id": "nope"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("program_not_found"))
    );
    let (s, v) = status(&app, json!({"user": "b@x.io", "status_change": "create_user", "referrer": "a@x.io", "referral_program_id": "p"})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["connection"]["referrer"], "a@x.io");
    assert_eq!(v["connection"]["upline"], json!(["a@x.io"]));
    // the user has a referrer already: the new one is ignored
    let (s, v) = status(&app, json!({"user": "b@x.io", "status_change": "create_user", "referrer": "z@x.io", "referral_program_id": "p"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["connection"], Value::Null);
    let b = app.connections("p", "b@x.io", "").await;
    assert_eq!(b["referrer"], "a@x.io");
    let (s, v) = status(&app, json!({"user": "c@x.io", "status_change": "create_user", "referrer": "c@x.io", "referral_program_id": "p"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("self_referral"))
    );
    let (s, _) = status(
        &app,
        json!({"user": "c@x.io", "status_change": "revoke_invite"}),
    )
    .await;
    assert_eq!(s, 404, "the refused create wrote nothing");
    let (s, v) = status(
        &app,
        json!({"user": "c@x.io", "status_change": "create_user", "referrer": "??"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_referrer"))
    );
}

#[tokio::test]
async fn ban_and_revoke() {
    let app = App::new().await;
    let (s, v) = status(&app, json!({"user": "ghost@x.io", "status_change": "ban"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );
    let (s, v) = status(
        &app,
        json!({"user": "ghost@x.io", "status_change": "revoke_invite"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );

    status(
        &app,
        json!({"user": "lone@x.io", "status_change": "create_user"}),
    )
    .await;
    let (s, v) = status(
        &app,
        json!({"user": "lone@x.io", "status_change": "revoke_invite"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "revoked");
    let (s, _) = status(
        &app,
        json!({"user": "lone@x.io", "status_change": "revoke_invite"}),
    )
    .await;
    assert_eq!(s, 404, "a revoked user is gone");

    assert_eq!(app.link("p", "b@x.io", "a@x.io").await.0, 201);
    for who in ["a@x.io", "b@x.io"] {
        let (s, v) = status(&app, json!({"user": who, "status_change": "revoke_invite"})).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("user_connected")),
            "{who}"
        );
    }
    let (s, v) = status(&app, json!({"user": "a@x.io", "status_change": "ban"})).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "banned");
    let (s, v) = status(
        &app,
        json!({"user": "a@x.io", "status_change": "create_user"}),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("user_banned")));
}

#[tokio::test]
async fn bad_bodies() {
    let app = App::new().await;
    for (body, code) in [
        (
            json!({"user": "a@x.io", "status_change": "delete"}),
            "invalid_status_change",
        ),
        (json!({"user": "a@x.io"}), "invalid_body"),
        (json!({"status_change": "ban"}), "invalid_body"),
        (
            json!({"user": ["a@x.io"], "status_change": "ban"}),
            "invalid_body",
        ),
        (
            json!({"user": "a".repeat(5000), "status_change": "ban"}),
            "invalid_user",
        ),
        (
            json!({"user": "a@x.io", "status_change": "create_user", "metadata": "x"}),
            "invalid_body",
        ),
        (
            json!({"user": "a@x.io", "status_change": "create_user", "referrer": 7}),
            "invalid_body",
        ),
        // a bad program id is refused even when no referrer would use it
        (
            json!({"user": "a@x.io", "status_change": "create_user", "referral_program_id": "no such!"}),
            "invalid_program_id",
        ),
        (
            json!({"user": "a@x.io", "status_change": "ban", "referral_program_id": " p"}),
            "invalid_program_id",
        ),
        (
            json!({"user": "a@x.io", "status_change": "ban", "referrer": "b@x.io"}),
            "missing_referral_program_id",
        ),
        (
            json!({"user": "a@x.io", "status_change": "revoke_invite", "referrer": "ab"}),
            "invalid_referrer",
        ),
    ] {
        let (s, v) = status(&app, body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn null_fields_are_absent_ones() {
    let app = App::new().await;
    let (s, v) = status(
        &app,
        json!({"user": "n@x.io", "status_change": "create_user", "referrer": null,
               "referral_program_id": null, "send_email": null, "metadata": null}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = status(&app, json!({"user": null, "status_change": "ban"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_body"))
    );
}

#[tokio::test]
async fn a_revoked_user_with_codes_can_still_be_banned() {
    let app = App::new().await;
    let (s, _) = app
        .get("/networks/{net}/connections/p/users/owner@x.io/codes")
        .await;
    assert_eq!(s, 200);
    let (s, v) = status(
        &app,
        json!({"user": "owner@x.io", "status_change": "revoke_invite"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    status(
        &app,
        json!({"user": "owner@x.io", "status_change": "create_user"}),
    )
    .await;
    let (s, v) = status(&app, json!({"user": "owner@x.io", "status_change": "ban"})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("banned")), "{v}");
    let (_, codes) = app
        .get("/networks/{net}/connections/p/users/owner@x.io/codes")
        .await;
    assert_eq!(codes["codes"][0]["active"], false);
}
