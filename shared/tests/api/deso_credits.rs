//! jumio-begin and exactly-once crediting: amounts by country, caps under concurrency, and a
//! begin that writes once.

use futures::future::join_all;
use serde_json::json;
use shared::domain::{NetworkId, UserId};

use crate::deso::*;
use crate::harness::*;

#[tokio::test]
async fn begin_then_credit_exactly_once() {
    let app = App::new().await;
    money(&app, 1000, 200, 50).await;
    let code = create_hash(&app, OWNER, 1000, 500, 0).await;
    let other = create_hash(&app, 0x22, 1, 1, 0).await;
    let joiner = 0x41;

    let (s, v) = begin(&app, joiner, &code).await;
    assert_eq!((s, v), (200, json!({"URL": ""})));
    assert_eq!(begin(&app, joiner, &code).await.0, 200);
    assert_eq!(begin(&app, joiner, &other).await.0, 200);
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
    let (s, _) = begin(&app, joiner, "11111111").await;
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

    let (s, v) = callback(&app, joiner).await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"Credited": false, "ReferralCounted": false, "RefereeAmountUSDCents": 0, "ReferrerAmountUSDCents": 0})
        )
    );
    let (s, _) = begin(&app, joiner, &code).await;
    assert_eq!(s, 409, "credited users cannot begin again");

    // never began: the default bonus, once, nothing counts
    let (s, v) = callback(&app, 0x42).await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"Credited": true, "ReferralCounted": false, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 0})
        )
    );

    // a self-referral pays no kickback and does not count
    assert_eq!(begin(&app, OWNER, &code).await.0, 200);
    let (_, v) = callback(&app, OWNER).await;
    assert_eq!(
        v,
        json!({"Credited": true, "ReferralCounted": false, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 0})
    );

    // an inactive code: the country default, nothing to the referrer
    app.deso("admin/update-referral-hash", as_admin(SUPER_ADMIN, json!({"ReferralHashBase58": code, "RefereeAmountUSDCents": 1000, "ReferrerAmountUSDCents": 500, "MaxReferrals": 0, "RequiresJumio": true, "IsActive": false}))).await;
    assert_eq!(begin(&app, 0x43, &code).await.0, 200);
    let (_, v) = callback(&app, 0x43).await;
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
    assert_eq!(begin(&app, 0x51, &code).await.0, 200);
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
        async move { begin(app, *u, &code).await }
    });
    for (s, v) in join_all(begins).await {
        assert_eq!(s, 200, "{v}");
    }
    let mut targets: Vec<u8> = users.clone();
    targets.extend(users.iter().take(20));
    let callbacks = targets.iter().map(|u| {
        let app = &app;
        async move { callback(app, *u).await }
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

/// Only a user's first begin writes the code's shared counter shard: every later begin, for
/// the same code or another, is one read and no write, so repeating a begin never contends on
/// the code.
#[tokio::test]
async fn only_the_first_begin_writes() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 0).await;
    let other = create_hash(&app, 0x23, 1, 1, 0).await;
    app.calls.reset();
    let (s, v) = begin(&app, 0x42, &code).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        app.calls.count(),
        3,
        "read code and records, read link, write"
    );
    for hash in [&code, &other, &code] {
        app.calls.reset();
        let (s, v) = begin(&app, 0x42, hash).await;
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

/// A credit whose referrer's tree is being moved: the link commits with a pending row, and
/// the move's job sets the new member's upline before its fence comes down.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_credit_into_a_moving_tree_ends_with_the_right_upline() {
    use shared::store::jobs::{now_ms, JobStatus};
    let app = App::new().await;
    crate::stream::run_jobs_by_hand(&app.net);
    let owner = deso_public_key(OWNER);
    // the code's owner sits under a large subtree's root, which then moves
    assert_eq!(app.link("p", &owner, "root@x.io").await.0, 201);
    for i in 0..60 {
        assert_eq!(app.link("p", &email("k", i), "root@x.io").await.0, 201);
    }
    let code = create_hash(&app, OWNER, 100, 50, 0).await;
    let (s, v) = app.set_referrer("p", "root@x.io", "dest@x.io").await;
    assert_eq!(s, 202, "{v}");
    let id = v["job"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(begin(&app, 0x61, &code).await.0, 200);
    let (s, v) = callback(&app, 0x61).await;
    assert_eq!((s, &v["ReferralCounted"]), (200, &json!(true)), "{v}");
    let net = NetworkId::try_from(app.net.as_str()).expect("net");
    let status = crate::policy::as_function(
        "move-worker",
        app.state.store.run_job(&net, &id, now_ms() + 120_000),
    )
    .await
    .expect("runs");
    assert_eq!(status, Some(JobStatus::Done));
    let joiner = app.connections("p", &deso_public_key(0x61), "").await;
    assert_eq!(
        users(&joiner, "upline"),
        [owner, "root@x.io".into(), "dest@x.io".into()]
    );
    app.check().await;
}

/// A DeSo credit through an expired code counts nothing, as through an inactive one: the
/// expiry is in the condition the credit's link writes under.
#[tokio::test]
async fn a_credit_through_an_expired_code_pays_the_default_and_counts_nothing() {
    let app = App::new().await;
    money(&app, 1000, 200, 50).await;
    let code = create_hash(&app, OWNER, 1000, 500, 0).await;
    // Far enough ahead for the PATCH and the begin on a loaded machine, where a PATCH once
    // answered after a 1 s expiry had passed.
    let expiry_ms = shared::clock::now_ms() + 4_000;
    let soon = shared::clock::rfc3339_ms(expiry_ms);
    let (s, v) = app
        .call(
            "PATCH",
            &format!("/networks/{{net}}/codes/{code}"),
            Some(json!({"expires_at": soon})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"]["status"].as_str()),
        (200, Some("active")),
        "{v}"
    );
    let joiner = 0x41;
    assert_eq!(begin(&app, joiner, &code).await.0, 200);
    let left = expiry_ms.saturating_sub(shared::clock::now_ms()) + 200;
    tokio::time::sleep(std::time::Duration::from_millis(left)).await;
    let (s, v) = callback(&app, joiner).await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"Credited": true, "ReferralCounted": false, "RefereeAmountUSDCents": 200, "ReferrerAmountUSDCents": 0})
        )
    );
    let i = code_info(&info(&app, OWNER).await, &code);
    assert_eq!(i["Info"]["TotalReferrals"], 0);
    assert_eq!(i["Info"]["NumJumioSuccesses"], 0);
    app.check().await;
}
