//! DeSo routes under bad input and bad credentials: forged tokens, admin inputs checked, and
//! hostile bodies that never get a 5xx.

use serde_json::{json, Value};

use crate::deso::*;
use crate::harness::*;

#[tokio::test]
async fn forged_credentials_are_refused() {
    let app = App::new().await;
    let key = deso_public_key(OWNER);
    let good = deso_jwt(OWNER);
    let parts: Vec<&str> = good.split('.').collect();
    let b64 = |v: Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let expired = deso_sign::session_jwt(
        &crate::harness::signer(OWNER),
        shared::clock::now_secs() - 3600,
    );
    let derived = deso_sign::jwt(
        &crate::harness::signer(OWNER),
        &json!({"alg": "ES256", "typ": "JWT"}),
        &json!({"iat": 1, "derivedPublicKeyBase58Check": deso_public_key(9)}),
    );
    let forgeries = [
        ("another key's token", deso_jwt(0x66)),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(json!({"iat": 1, "exp": 9_999_999_999u64})),
                parts[2]
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(json!({"alg": "none", "typ": "JWT"})),
                parts[1]
            ),
        ),
        ("expired", expired),
        ("derived key", derived),
        ("malformed", "not.a.jwt".to_owned()),
        ("empty", String::new()),
    ];
    for (what, jwt) in forgeries {
        let (s, v) = app
            .deso(
                "get-referral-info-for-user",
                json!({"PublicKeyBase58Check": key, "JWT": jwt}),
            )
            .await;
        assert_eq!(s, 401, "{what}: {v}");
        let (s, _) = app
            .deso(
                "admin/download-referral-csv",
                json!({"AdminPublicKey": deso_public_key(SUPER_ADMIN), "JWT": jwt}),
            )
            .await;
        assert_eq!(s, 401, "admin {what}");
    }
    let (s, _) = app
        .deso(
            "get-referral-info-for-user",
            json!({"PublicKeyBase58Check": "BC1YLnope", "JWT": good}),
        )
        .await;
    assert_eq!(s, 400);
    // allowlists: nobody, an admin on a super-admin route, an admin where admins may go
    let (s, v) = app
        .deso("admin/download-referral-csv", as_admin(0x77, json!({})))
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, _) = app
        .deso("admin/download-referral-csv", as_admin(ADMIN, json!({})))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .deso(
            "admin/get-all-country-level-sign-up-bonuses",
            as_admin(ADMIN, json!({})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .deso(
            "admin/get-all-country-level-sign-up-bonuses",
            as_admin(SUPER_ADMIN, json!({})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .deso(
            "admin/get-all-country-level-sign-up-bonuses",
            as_admin(0x77, json!({})),
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn admin_inputs_are_checked() {
    let app = App::new().await;
    for (route, body) in [
        ("admin/update-jumio-usd-cents", json!({"USDCents": 100001})),
        ("admin/update-jumio-usd-cents", json!({"USDCents": -1})),
        (
            "admin/update-jumio-kickback-usd-cents",
            json!({"USDCents": "5"}),
        ),
        (
            "admin/set-usd-cents-to-deso-reserve-exchange-rate",
            json!({"USDCentsPerDeSo": 0}),
        ),
        (
            "admin/update-jumio-country-sign-up-bonus",
            json!({"CountryCode": "XYZ", "CountryLevelSignUpBonus": {"AllowCustomReferralAmount": false, "ReferralAmountOverrideUSDCents": 1, "AllowCustomKickbackAmount": false, "KickbackAmountOverrideUSDCents": 1}}),
        ),
        (
            "admin/update-jumio-country-sign-up-bonus",
            json!({"CountryCode": "US", "CountryLevelSignUpBonus": {"AllowCustomReferralAmount": false, "ReferralAmountOverrideUSDCents": 1, "AllowCustomKickbackAmount": false, "KickbackAmountOverrideUSDCents": 1}}),
        ),
        (
            "admin/update-jumio-country-sign-up-bonus",
            json!({"CountryCode": "USA", "CountryLevelSignUpBonus": {"AllowCustomReferralAmount": false, "ReferralAmountOverrideUSDCents": 100001, "AllowCustomKickbackAmount": false, "KickbackAmountOverrideUSDCents": 1}}),
        ),
        (
            "admin/create-referral-hash",
            json!({"UserPublicKeyBase58Check": deso_public_key(OWNER), "RefereeAmountUSDCents": 100001, "ReferrerAmountUSDCents": 0, "MaxReferrals": 1, "RequiresJumio": false}),
        ),
        (
            "admin/create-referral-hash",
            json!({"UserPublicKeyBase58Check": "x@y.io", "RefereeAmountUSDCents": 1, "ReferrerAmountUSDCents": 0, "MaxReferrals": 1, "RequiresJumio": false}),
        ),
        (
            "admin/update-referral-hash",
            json!({"ReferralHashBase58": "11111111", "RefereeAmountUSDCents": 1, "ReferrerAmountUSDCents": 100001, "MaxReferrals": 1, "RequiresJumio": false, "IsActive": true}),
        ),
        (
            "admin/jumio-callback",
            json!({"PublicKeyBase58Check": deso_public_key(3), "CountryAlpha3": "ZZZ"}),
        ),
    ] {
        let (s, v) = app.deso(route, as_admin(SUPER_ADMIN, body.clone())).await;
        assert_eq!(s, 400, "{route} {body}: {v}");
    }
    let (s, _) = app
        .deso("admin/update-referral-hash", as_admin(SUPER_ADMIN, json!({"ReferralHashBase58": "11111111", "RefereeAmountUSDCents": 1, "ReferrerAmountUSDCents": 1, "MaxReferrals": 1, "RequiresJumio": false, "IsActive": true})))
        .await;
    assert_eq!(s, 404);
    let (_, v) = app
        .deso(
            "admin/get-all-country-level-sign-up-bonuses",
            as_admin(ADMIN, json!({})),
        )
        .await;
    let all = v["SignUpBonusMetadata"].as_object().unwrap();
    assert!(
        all.values()
            .all(|c| c["CountryLevelSignUpBonus"] == v["DefaultSignUpBonusMetadata"]),
        "nothing was written"
    );
    assert_eq!(
        v["DefaultSignUpBonusMetadata"]["ReferralAmountOverrideUSDCents"],
        0
    );
}

#[tokio::test]
async fn hostile_deso_input_never_gets_a_5xx() {
    let app = App::new().await;
    let long = "x".repeat(5000);
    let routes = [
        "get-referral-info-for-user",
        "get-referral-info-for-referral-hash",
        "jumio-begin",
        "admin/create-referral-hash",
        "admin/update-referral-hash",
        "admin/get-all-referral-info-for-user",
        "admin/download-referral-csv",
        "admin/upload-referral-csv",
        "admin/update-jumio-country-sign-up-bonus",
        "admin/get-all-country-level-sign-up-bonuses",
        "admin/update-jumio-usd-cents",
        "admin/update-jumio-kickback-usd-cents",
        "admin/set-usd-cents-to-deso-reserve-exchange-rate",
        "admin/jumio-callback",
    ];
    let bodies = [
        "null".to_owned(),
        "[]".to_owned(),
        "{}".to_owned(),
        "\"\\ud800\"".to_owned(),
        "{\"PublicKeyBase58Check\": \"\\udfff\"}".to_owned(),
        json!({"PublicKeyBase58Check": long, "JWT": long, "AdminPublicKey": long, "ReferralHash": long, "ReferralHashBase58": long}).to_string(),
        json!({"PublicKeyBase58Check": 5, "JWT": [], "AdminPublicKey": {}, "USDCents": "x", "CountryCode": 1}).to_string(),
        as_admin(SUPER_ADMIN, json!({"USDCents": 1e300, "USDCentsPerDeSo": -5, "MaxReferrals": 1.5, "CountryCode": long, "PublicKeyBase58Check": long, "UserPublicKeyBase58Check": long})).to_string(),
    ];
    for r in routes {
        for (i, b) in bodies.iter().enumerate() {
            let (s, v) = app.deso_raw(r, b.clone(), &[]).await;
            let shown: String = b.chars().take(120).collect();
            // the last body carries valid admin credentials: routes that need nothing else answer 200
            if i + 1 < bodies.len() {
                assert!((400..500).contains(&s), "{r} {shown}: {s} {v}");
            } else {
                assert!(s < 500, "{r} {shown}: {s} {v}");
            }
        }
    }
}
