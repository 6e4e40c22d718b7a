//! DeSo referral hashes: their info with the country bonus, DeSo's spellings, codes shared
//! with the Connections API, and updates.

use serde_json::json;

use crate::deso::*;
use crate::harness::*;

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
async fn update_keeps_stats_and_applies_the_cap() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 5).await;
    let (s, v) = begin(&app, 0x31, &code).await;
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
