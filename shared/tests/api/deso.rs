use futures::future::join_all;
use serde_json::{json, Value};
use shared::domain::{NetworkId, UserId};

use crate::harness::{as_admin, as_user, deso_jwt, deso_public_key, App, ADMIN, SUPER_ADMIN};

pub const OWNER: u8 = 0x21;

pub async fn create_hash(app: &App, owner: u8, referee: u64, referrer: u64, max: u64) -> String {
    let (s, v) = app
        .deso(
            "admin/create-referral-hash",
            as_admin(
                SUPER_ADMIN,
                json!({"UserPublicKeyBase58Check": deso_public_key(owner), "RefereeAmountUSDCents": referee,
                       "ReferrerAmountUSDCents": referrer, "MaxReferrals": max, "RequiresJumio": true}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["ReferralInfoResponse"]["Info"]["ReferralHashBase58"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn info(app: &App, owner: u8) -> Value {
    let (s, v) = app
        .deso(
            "admin/get-all-referral-info-for-user",
            as_admin(
                SUPER_ADMIN,
                json!({"UserPublicKeyBase58Check": deso_public_key(owner)}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

pub async fn setting(app: &App, route: &str, field: &str, value: u64) {
    let (s, v) = app
        .deso(route, as_admin(SUPER_ADMIN, json!({ field: value })))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v[field], value);
}

/// The exchange rate, the default referee bonus and the default kickback.
pub async fn money(app: &App, cents_per_deso: u64, jumio: u64, kickback: u64) {
    setting(
        app,
        "admin/set-usd-cents-to-deso-reserve-exchange-rate",
        "USDCentsPerDeSo",
        cents_per_deso,
    )
    .await;
    setting(app, "admin/update-jumio-usd-cents", "USDCents", jumio).await;
    setting(
        app,
        "admin/update-jumio-kickback-usd-cents",
        "USDCents",
        kickback,
    )
    .await;
}

#[tokio::test]
async fn hash_info_with_country_bonus_in_one_round_trip() {
    let app = App::new().await;
    setting(&app, "admin/update-jumio-usd-cents", "USDCents", 250).await;
    setting(
        &app,
        "admin/update-jumio-kickback-usd-cents",
        "USDCents",
        100,
    )
    .await;
    let usa = json!({"AllowCustomReferralAmount": true, "ReferralAmountOverrideUSDCents": 300,
                     "AllowCustomKickbackAmount": false, "KickbackAmountOverrideUSDCents": 120});
    let (s, v) = app
        .deso(
            "admin/update-jumio-country-sign-up-bonus",
            as_admin(
                SUPER_ADMIN,
                json!({"CountryCode": "USA", "CountryLevelSignUpBonus": usa}),
            ),
        )
        .await;
    assert_eq!((s, v.clone()), (200, json!({})));
    let code = create_hash(&app, OWNER, 1000, 500, 10).await;
    let default = json!({"AllowCustomReferralAmount": false, "ReferralAmountOverrideUSDCents": 250,
                         "AllowCustomKickbackAmount": false, "KickbackAmountOverrideUSDCents": 100});
    for (headers, want) in [
        (vec![("cf-ipcountry", "US")], &usa),
        (vec![("cf-ipcountry", "XX")], &default),
        (vec![("cf-ipcountry", "T1")], &default),
        (vec![("cf-ipcountry", "QQ")], &default),
        (vec![], &default),
        (vec![("cloudfront-viewer-country", "US")], &usa),
        (vec![("cloudfront-viewer-country", "DE")], &default),
    ] {
        app.calls.reset();
        let (s, v) = app
            .deso_raw(
                "get-referral-info-for-referral-hash",
                json!({"ReferralHash": code}).to_string(),
                &headers,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(app.calls.count(), 1, "one round trip");
        assert_eq!(&v["CountrySignUpBonus"], want, "{headers:?}");
        assert_eq!(v["ReferralInfoResponse"]["IsActive"], true);
        assert_eq!(
            v["ReferralInfoResponse"]["Info"],
            json!({"ReferralHashBase58": code, "RefereeAmountUSDCents": 1000, "MaxReferrals": 10, "TotalReferrals": 0})
        );
    }
    let (s, _) = app
        .deso(
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": "11111111"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .deso(
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": "bad"}),
        )
        .await;
    assert_eq!(s, 400);

    let (s, v) = app
        .deso(
            "admin/get-all-country-level-sign-up-bonuses",
            as_admin(ADMIN, json!({})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let us = &v["SignUpBonusMetadata"]["United States of America"];
    assert_eq!(us["CountryLevelSignUpBonus"], usa);
    assert_eq!(
        us["CountryCodeDetails"],
        json!({"Name": "United States of America", "CountryCode": "840", "Alpha3": "USA"})
    );
    let all = v["SignUpBonusMetadata"].as_object().unwrap();
    assert_eq!(all.len(), 249, "every country of DeSo's list");
    assert_eq!(
        all["Nigeria"]["CountryLevelSignUpBonus"], default,
        "a country without its own bonus shows the default"
    );
    assert_eq!(v["DefaultSignUpBonusMetadata"], default);
}

#[tokio::test]
async fn referral_info_uses_deso_s_spelling() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 1000, 500, 0).await;
    let (s, v) = app
        .deso("get-referral-info-for-user", as_user(OWNER, json!({})))
        .await;
    assert_eq!(s, 200, "{v}");
    let r = &v["ReferralInfoResponses"][0];
    assert_eq!(r["IsActive"], true);
    assert_eq!(r["ReferredUsers"], json!([]));
    let i = r["Info"].as_object().unwrap();
    let mut names: Vec<&str> = i.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "DateCreatedTStampNanos",
            "MaxReferrals",
            "NumJumioAttempts",
            "NumJumioSuccesses",
            "RefereeAmountUSDCents",
            "ReferralHashBase58",
            "ReferrerAmountUSDCents",
            "ReferrerPKID",
            "RequiresJumio",
            "TotalRefereeDeSoNanos",
            "TotalReferrals",
            "TotalReferrerDeSoNanos"
        ]
    );
    assert_eq!(i["ReferralHashBase58"], code.as_str());
    let pkid = i["ReferrerPKID"].as_array().unwrap();
    assert_eq!(pkid.len(), 33);
    let key = shared::domain::DesoPublicKey::from_stored(deso_public_key(OWNER).as_str()).unwrap();
    assert_eq!(
        pkid.iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect::<Vec<_>>(),
        key.key_bytes().to_vec()
    );
    let (s, v) = app
        .deso("get-referral-info-for-user", as_user(0x55, json!({})))
        .await;
    assert_eq!((s, v), (200, json!({"ReferralInfoResponses": []})));
}

#[tokio::test]
async fn connection_codes_are_referral_hashes() {
    let app = App::new().await;
    let (_, v) = app
        .get("/networks/{net}/connections/p/users/mail@x.io/codes")
        .await;
    let code = v["codes"][0]["code"].as_str().unwrap().to_owned();
    let (s, v) = app
        .deso(
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": code}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, csv) = app
        .deso(
            "admin/download-referral-csv",
            as_admin(SUPER_ADMIN, json!({})),
        )
        .await;
    let row = csv["CSVRows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == code.as_str())
        .unwrap()
        .clone();
    assert_eq!(row[2], "", "an email owner has no PKID");
    // another network's code is unknown here
    let other = App::new().await;
    let (s, _) = other
        .deso(
            "get-referral-info-for-referral-hash",
            json!({"ReferralHash": code}),
        )
        .await;
    assert_eq!(s, 404);
}

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
async fn update_keeps_stats_and_applies_the_cap() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 5).await;
    let (s, v) = app
        .deso(
            "jumio-begin",
            as_user(0x31, json!({"ReferralHashBase58": code})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .deso("admin/update-referral-hash", as_admin(SUPER_ADMIN, json!({"ReferralHashBase58": code, "RefereeAmountUSDCents": 7, "ReferrerAmountUSDCents": 8, "MaxReferrals": 9, "RequiresJumio": false, "IsActive": false})))
        .await;
    assert_eq!(s, 200, "{v}");
    let r = &v["ReferralInfoResponse"];
    assert_eq!(r["IsActive"], false);
    assert_eq!(r["Info"]["RefereeAmountUSDCents"], 7);
    assert_eq!(r["Info"]["MaxReferrals"], 9);
    assert_eq!(r["Info"]["NumJumioAttempts"], 1, "stats are kept");
}

pub fn code_info(v: &Value, code: &str) -> Value {
    v["ReferralInfoResponses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Info"]["ReferralHashBase58"] == code)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn begin_then_credit_exactly_once() {
    let app = App::new().await;
    money(&app, 1000, 200, 50).await;
    let code = create_hash(&app, OWNER, 1000, 500, 0).await;
    let other = create_hash(&app, 0x22, 1, 1, 0).await;
    let joiner = 0x41;

    let (s, v) = app
        .deso(
            "jumio-begin",
            as_user(joiner, json!({"ReferralHashBase58": code})),
        )
        .await;
    assert_eq!((s, v), (200, json!({"URL": ""})));
    assert_eq!(
        app.deso(
            "jumio-begin",
            as_user(joiner, json!({"ReferralHashBase58": code}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.deso(
            "jumio-begin",
            as_user(joiner, json!({"ReferralHashBase58": other}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        code_info(&info(&app, OWNER).await, &code)["Info"]["NumJumioAttempts"],
        1,
        "once per user"
    );
    assert_eq!(
        code_info(&info(&app, 0x22).await, &other)["Info"]["NumJumioAttempts"],
        0,
        "the first code wins"
    );
    let (s, _) = app
        .deso(
            "jumio-begin",
            as_user(joiner, json!({"ReferralHashBase58": "11111111"})),
        )
        .await;
    assert_eq!(s, 404);

    app.calls.reset();
    let (s, v) = app
        .deso(
            "admin/jumio-callback",
            as_admin(
                SUPER_ADMIN,
                // null is absent, as Go decodes it
                json!({"PublicKeyBase58Check": deso_public_key(joiner), "CountryAlpha3": null, "Username": null}),
            ),
        )
        .await;
    let trips = app.calls.count();
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"Credited": true, "ReferralCounted": true, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 50})
    );
    eprintln!("round trips: jumio-callback = {trips}");
    assert!(trips <= 2, "callback took {trips} round trips");

    let i = code_info(&info(&app, OWNER).await, &code);
    assert_eq!(i["Info"]["TotalReferrals"], 1);
    assert_eq!(i["Info"]["NumJumioSuccesses"], 1);
    assert_eq!(
        i["Info"]["TotalRefereeDeSoNanos"], 200_000_000u64,
        "200 cents at 1000 cents per DeSo"
    );
    assert_eq!(i["Info"]["TotalReferrerDeSoNanos"], 50_000_000u64);
    assert_eq!(
        i["ReferredUsers"],
        json!([{"PublicKeyBase58Check": deso_public_key(joiner)}])
    );
    // the credited signup is a connection in the code's program
    let owner = app.connections("p", &deso_public_key(OWNER), "").await;
    assert_eq!(
        owner["downline"][0]["user"],
        deso_public_key(joiner).as_str()
    );
    assert_eq!(owner["downline_counts"]["1"], 1);

    let (s, v) = app
        .deso(
            "admin/jumio-callback",
            as_admin(
                SUPER_ADMIN,
                json!({"PublicKeyBase58Check": deso_public_key(joiner)}),
            ),
        )
        .await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"Credited": false, "ReferralCounted": false, "RefereeAmountUSDCents": 0, "ReferrerAmountUSDCents": 0})
        )
    );
    let (s, _) = app
        .deso(
            "jumio-begin",
            as_user(joiner, json!({"ReferralHashBase58": code})),
        )
        .await;
    assert_eq!(s, 409, "credited users cannot begin again");

    // never began: the default bonus, once, nothing counts
    let (s, v) = app
        .deso(
            "admin/jumio-callback",
            as_admin(
                SUPER_ADMIN,
                json!({"PublicKeyBase58Check": deso_public_key(0x42)}),
            ),
        )
        .await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"Credited": true, "ReferralCounted": false, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 0})
        )
    );

    // a self-referral pays no kickback and does not count
    assert_eq!(
        app.deso(
            "jumio-begin",
            as_user(OWNER, json!({"ReferralHashBase58": code}))
        )
        .await
        .0,
        200
    );
    let (_, v) = app
        .deso(
            "admin/jumio-callback",
            as_admin(
                SUPER_ADMIN,
                json!({"PublicKeyBase58Check": deso_public_key(OWNER)}),
            ),
        )
        .await;
    assert_eq!(
        v,
        json!({"Credited": true, "ReferralCounted": false, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 0})
    );

    // an inactive code: the country default, nothing to the referrer
    app.deso("admin/update-referral-hash", as_admin(SUPER_ADMIN, json!({"ReferralHashBase58": code, "RefereeAmountUSDCents": 1000, "ReferrerAmountUSDCents": 500, "MaxReferrals": 0, "RequiresJumio": true, "IsActive": false}))).await;
    assert_eq!(
        app.deso(
            "jumio-begin",
            as_user(0x43, json!({"ReferralHashBase58": code}))
        )
        .await
        .0,
        200
    );
    let (_, v) = app
        .deso(
            "admin/jumio-callback",
            as_admin(
                SUPER_ADMIN,
                json!({"PublicKeyBase58Check": deso_public_key(0x43)}),
            ),
        )
        .await;
    assert_eq!(
        v,
        json!({"Credited": true, "ReferralCounted": false, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 0})
    );
    let i = code_info(&info(&app, OWNER).await, &code);
    assert_eq!(i["Info"]["TotalReferrals"], 1);
    assert_eq!(i["Info"]["NumJumioAttempts"], 3);
    app.check().await;
}

#[tokio::test]
async fn custom_amounts_follow_the_country_flags() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 1000, 500, 0).await;
    let bonus = json!({"AllowCustomReferralAmount": true, "ReferralAmountOverrideUSDCents": 300,
                       "AllowCustomKickbackAmount": true, "KickbackAmountOverrideUSDCents": 700});
    app.deso(
        "admin/update-jumio-country-sign-up-bonus",
        as_admin(
            SUPER_ADMIN,
            json!({"CountryCode": "FRA", "CountryLevelSignUpBonus": bonus}),
        ),
    )
    .await;
    assert_eq!(
        app.deso(
            "jumio-begin",
            as_user(0x51, json!({"ReferralHashBase58": code}))
        )
        .await
        .0,
        200
    );
    let (_, v) = app
        .deso(
            "admin/jumio-callback",
            as_admin(
                SUPER_ADMIN,
                json!({"PublicKeyBase58Check": deso_public_key(0x51), "CountryAlpha3": "FRA"}),
            ),
        )
        .await;
    assert_eq!(
        v,
        json!({"Credited": true, "ReferralCounted": true, "RefereeAmountUSDCents": 1000, "ReferrerAmountUSDCents": 700})
    );
    // no rate set: nanos stay 0 and crediting still works
    let i = code_info(&info(&app, OWNER).await, &code);
    assert_eq!(i["Info"]["TotalRefereeDeSoNanos"], 0);
    assert_eq!(i["Info"]["NumJumioSuccesses"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_crediting_never_overshoots() {
    // through the conflict proxy: racers on one code's shards are cancelled as on DynamoDB
    let app = App::contended(5).await;
    money(&app, 700, 300, 90).await;
    let code = create_hash(&app, OWNER, 1000, 500, 10).await;
    let users: Vec<u8> = (0..60).map(|i| 100 + i as u8).collect();
    let begins = users.iter().map(|u| {
        let app = &app;
        let code = code.clone();
        async move {
            app.deso(
                "jumio-begin",
                as_user(*u, json!({"ReferralHashBase58": code})),
            )
            .await
        }
    });
    for (s, v) in join_all(begins).await {
        assert_eq!(s, 200, "{v}");
    }
    let mut targets: Vec<u8> = users.clone();
    targets.extend(users.iter().take(20));
    let callbacks = targets.iter().map(|u| {
        let app = &app;
        async move {
            app.deso(
                "admin/jumio-callback",
                as_admin(
                    SUPER_ADMIN,
                    json!({"PublicKeyBase58Check": deso_public_key(*u)}),
                ),
            )
            .await
        }
    });
    let results = join_all(callbacks).await;
    for (s, v) in &results {
        assert_eq!(*s, 200, "{v}");
    }
    let credited = results.iter().filter(|r| r.1["Credited"] == true).count();
    let counted = results
        .iter()
        .filter(|r| r.1["ReferralCounted"] == true)
        .count();
    assert_eq!(credited, 60, "each user once");
    assert_eq!(counted, 10, "never past MaxReferrals");
    let i = code_info(&info(&app, OWNER).await, &code);
    assert_eq!(i["Info"]["TotalReferrals"], 10);
    assert_eq!(i["Info"]["NumJumioSuccesses"], 10);
    assert_eq!(i["Info"]["NumJumioAttempts"], 60);
    assert_eq!(i["ReferredUsers"].as_array().unwrap().len(), 10);

    // the ledger agrees with the counters
    let net = NetworkId::try_from(app.net.as_str()).unwrap();
    let owner = UserId::from_stored(deso_public_key(OWNER).as_str()).unwrap();
    let paid = app.state.store.ledger(&net, &owner).await.unwrap();
    assert_eq!(paid.len(), 10, "exactly 10 referrer payments");
    let kick: u64 = paid.iter().map(|e| e.deso_nanos).sum();
    assert_eq!(i["Info"]["TotalReferrerDeSoNanos"], kick);
    let mut referee_counted = 0u64;
    let mut referee_entries = 0;
    for u in &users {
        let who = UserId::from_stored(deso_public_key(*u).as_str()).unwrap();
        for e in app.state.store.ledger(&net, &who).await.unwrap() {
            referee_entries += 1;
            if e.counted {
                referee_counted += e.deso_nanos;
            }
        }
    }
    assert_eq!(referee_entries, 60);
    assert_eq!(i["Info"]["TotalRefereeDeSoNanos"], referee_counted);
    let owner_view = app.connections("p", &deso_public_key(OWNER), "").await;
    assert_eq!(owner_view["downline_counts"]["1"], 10);
    app.check().await;
}

pub fn multipart(admin: u8, csv: &str) -> (String, String) {
    let b = "XrefnetBoundaryX";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"AdminPublicKey\"\r\n\r\n{}\r\n--{b}\r\nContent-Disposition: form-data; name=\"JWT\"\r\n\r\n{}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{b}--\r\n",
        deso_public_key(admin),
        deso_jwt(admin)
    );
    (body, format!("multipart/form-data; boundary={b}"))
}

pub async fn upload(app: &App, admin: u8, csv: &str) -> (u16, Value) {
    let (body, ct) = multipart(admin, csv);
    app.deso_raw("admin/upload-referral-csv", body, &[("content-type", &ct)])
        .await
}

pub async fn download(app: &App) -> Vec<Vec<String>> {
    let (s, v) = app
        .deso(
            "admin/download-referral-csv",
            as_admin(SUPER_ADMIN, json!({})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value(v["CSVRows"].clone()).unwrap()
}

#[tokio::test]
async fn csv_download_and_all_or_nothing_upload() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 3).await;
    let rows = download(&app).await;
    assert_eq!(
        rows[0],
        shared::domain::referral_csv::HEADER
            .map(String::from)
            .to_vec()
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], code);
    assert_eq!(rows[1][2], deso_public_key(OWNER));
    assert_eq!(rows[1][12], "true");

    // edit the download: change the existing row, add a new one
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(&rows[0]).unwrap();
    let mut edited = rows[1].clone();
    edited[5] = "7".into();
    edited[12] = "false".into();
    w.write_record(&edited).unwrap();
    let fresh = [
        "",
        "",
        &deso_public_key(0x23),
        "10",
        "20",
        "0",
        "false",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    w.write_record(fresh).unwrap();
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    let (s, v) = upload(&app, SUPER_ADMIN, &text).await;
    assert_eq!(
        (s, v.clone()),
        (200, json!({"LinksCreated": 1, "LinksUpdated": 1})),
        "{v}"
    );
    let after = download(&app).await;
    assert_eq!(after.len(), 3);
    assert_eq!(after[1][5], "7");
    assert_eq!(after[1][12], "false");
    assert_eq!(after[2][2], deso_public_key(0x23));
    assert_eq!(after[2][0].len(), 8);

    // a bad third row: 400 naming it, nothing written
    let bad = format!(
        "{}\n,,{},1,1,1,false,,,,,,\n,,{},1,1,x,false,,,,,,\n",
        rows[0].join(","),
        deso_public_key(0x24),
        deso_public_key(0x25)
    );
    let (s, v) = upload(&app, SUPER_ADMIN, &bad).await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("row 3"), "{v}");
    // changing an owner, or naming an unknown hash, is refused whole too
    let steal = format!(
        "{}\n{},,{},1,1,1,false,,,,,,\n",
        rows[0].join(","),
        code,
        deso_public_key(0x26)
    );
    let (s, v) = upload(&app, SUPER_ADMIN, &steal).await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("owner"), "{v}");
    let unknown = format!(
        "{}\n,,{},1,1,1,false,,,,,,\n11111111,,,1,1,1,false,,,,,,\n",
        rows[0].join(","),
        deso_public_key(0x27)
    );
    let (s, v) = upload(&app, SUPER_ADMIN, &unknown).await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("row 3"), "{v}");
    assert_eq!(download(&app).await, after, "nothing was written");

    let (s, _) = upload(&app, ADMIN, &text).await;
    assert_eq!(s, 403);
    let (s, _) = app
        .deso_raw(
            "admin/upload-referral-csv",
            "x".into(),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn csv_upload_of_many_rows_spans_transactions() {
    let app = App::new().await;
    let mut text = shared::domain::referral_csv::HEADER.join(",");
    for i in 0..120u8 {
        text.push_str(&format!(
            "\n,,{},{},1,1,false,,,,,,",
            deso_public_key(1 + i % 7),
            i
        ));
    }
    let (s, v) = upload(&app, SUPER_ADMIN, &text).await;
    assert_eq!(
        (s, v.clone()),
        (200, json!({"LinksCreated": 120, "LinksUpdated": 0})),
        "{v}"
    );
    assert_eq!(download(&app).await.len(), 121);
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

/// Only a user's first begin writes the code's shared counter shard: every later begin, for
/// the same code or another, is one read and no write, so repeating a begin never contends on
/// the code.
#[tokio::test]
async fn only_the_first_begin_writes() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 0).await;
    let other = create_hash(&app, 0x23, 1, 1, 0).await;
    app.calls.reset();
    let (s, v) = app
        .deso(
            "jumio-begin",
            as_user(0x42, json!({"ReferralHashBase58": code})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        app.calls.count(),
        3,
        "read code and records, read link, write"
    );
    for hash in [&code, &other, &code] {
        app.calls.reset();
        let (s, v) = app
            .deso(
                "jumio-begin",
                as_user(0x42, json!({"ReferralHashBase58": hash})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(app.calls.count(), 1, "a repeat begin only reads");
    }
    let repeats = (0..20).map(|_| {
        app.deso(
            "jumio-begin",
            as_user(0x42, json!({"ReferralHashBase58": code})),
        )
    });
    app.calls.reset();
    for (s, v) in join_all(repeats).await {
        assert_eq!(s, 200, "{v}");
    }
    assert_eq!(
        app.calls.count(),
        20,
        "twenty concurrent repeats, twenty reads"
    );
    assert_eq!(
        code_info(&info(&app, OWNER).await, &code)["Info"]["NumJumioAttempts"],
        1
    );
}
