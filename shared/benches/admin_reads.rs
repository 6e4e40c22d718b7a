//! Admin reads of a user with 5,000 codes, through the real handlers on DynamoDB Local: the
//! first page of `admin/get-all-referral-info-for-user` (what a DeSo client gets), every page,
//! and the first part of `admin/download-referral-csv`. Run with `make bench`.

use std::time::Instant;

use deso_sign as sign;
use futures::stream::{self, StreamExt};
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::clock::now_secs;
use shared::domain::{
    CodeConfig, DesoPublicKey, NetworkId, ProgramId, ProgramPatch, UsdCents, UserId,
};
use shared::{clock, AppState, Config};

const CODES: usize = 5_000;

fn request(route: &str, body: &Value) -> Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("/api/v0/{route}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn answer(resp: lambda_http::Response<Body>) -> (u16, Value, usize) {
    let status = resp.status().as_u16();
    let bytes = resp.body().to_vec();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes.len(),
    )
}

#[tokio::main]
async fn main() {
    let admin = k256::ecdsa::SigningKey::from_slice(&[0x5a; 32]).expect("seed");
    let admin_key = sign::public_key(&admin);
    let net = format!("reads-{}", clock::now().ns);
    let (net_env, key_env) = (net.clone(), admin_key.clone());
    let config = Config::from_lookup(move |k| match k {
        "TABLE_NAME" => Some("refnet-bench".to_owned()),
        "DESO_NETWORK_ID" => Some(net_env.clone()),
        "SUPER_ADMIN_PUBLIC_KEYS" => Some(key_env.clone()),
        "AWS_ENDPOINT_URL_DYNAMODB" => std::env::var(k).ok(),
        _ => None,
    })
    .expect("config");
    let client = aws_sdk_dynamodb::Client::from_conf(shared::sdk_config().await);
    let state = AppState::new(config, client);
    let store = &state.store;
    store.ensure_table().await.expect("table");
    let net = NetworkId::try_from(net.as_str()).expect("net");
    let prog = ProgramId::try_from("default").expect("prog");
    store
        .upsert_program(&net, &prog, &ProgramPatch::default(), &clock::now().rfc3339)
        .await
        .expect("program");
    let owner_sk = k256::ecdsa::SigningKey::from_slice(&[0x5b; 32]).expect("seed");
    let owner_key = sign::public_key(&owner_sk);
    let owner = UserId::Deso(DesoPublicKey::from_stored(owner_key.as_str()).expect("key"));
    let cents = UsdCents::of("bench", 1).expect("cents");
    let config = CodeConfig {
        referrer_amount_usd_cents: cents,
        referee_amount_usd_cents: cents,
        max_referrals: 0,
        requires_jumio: true,
    };
    let made = Instant::now();
    let (n, p, o) = (&net, &prog, &owner);
    let created: Vec<_> = stream::iter(0..CODES)
        .map(|_| async move { store.create_code(n, p, o, config).await })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(created.iter().all(|c| c.is_ok()));
    println!(
        "created {CODES} codes in {:.0} s",
        made.elapsed().as_secs_f64()
    );

    let cred =
        || json!({"AdminPublicKey": admin_key, "JWT": sign::session_jwt(&admin, now_secs())});
    let with = |extra: Value| {
        let mut b = cred();
        if let (Some(m), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        b
    };
    println!("| read | answers | codes or rows | bytes | time |");
    println!("|---|---|---|---|---|");
    let t = Instant::now();
    let resp = shared::api::deso::admin_get_all_referral_info_for_user::handle(
        &state,
        request(
            "admin/get-all-referral-info-for-user",
            &with(json!({"UserPublicKeyBase58Check": owner_key, "Username": ""})),
        ),
    )
    .await
    .expect("answer");
    let (s, v, bytes) = answer(resp).await;
    assert_eq!(s, 200, "{v}");
    let first = v["ReferralInfoResponses"].as_array().map_or(0, Vec::len);
    println!("| get-all-referral-info-for-user, first page (a DeSo client) | 1 | {first} | {bytes} | {:.2} s |", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let (mut pages, mut codes, mut total_bytes) = (0, 0, 0);
    let mut cursor = String::new();
    loop {
        let resp = shared::api::deso::admin_get_all_referral_info_for_user::handle(
            &state,
            request(
                "admin/get-all-referral-info-for-user",
                &with(json!({"UserPublicKeyBase58Check": owner_key, "Cursor": cursor})),
            ),
        )
        .await
        .expect("answer");
        let (s, v, bytes) = answer(resp).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        total_bytes += bytes;
        codes += v["ReferralInfoResponses"].as_array().map_or(0, Vec::len);
        match v["NextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(codes, CODES);
    println!("| get-all-referral-info-for-user, every page | {pages} | {codes} | {total_bytes} | {:.2} s |", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let resp = shared::api::deso::admin_download_referral_csv::handle(
        &state,
        request("admin/download-referral-csv", &cred()),
    )
    .await
    .expect("answer");
    let (s, v, bytes) = answer(resp).await;
    assert_eq!(s, 200, "{v}");
    let rows = v["CSVRows"].as_array().map_or(0, Vec::len) - 1;
    println!(
        "| download-referral-csv, one answer{} | 1 | {rows} | {bytes} | {:.2} s |",
        if v.get("NextCursor").is_some() {
            " (cut, NextCursor)"
        } else {
            ""
        },
        t.elapsed().as_secs_f64()
    );
}
