//! Admin reads stay bounded: codes, referred users and CSV rows come a page at a time, with
//! Refnet's `Cursor`/`NextCursor`, and DeSo's clients, which send no cursor, get the first page.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde_json::{json, Value};
use shared::domain::ReferralCode;
use shared::store::keys;

use crate::deso::{create_hash, OWNER};
use crate::harness::{as_admin, deso_public_key, App, SUPER_ADMIN};

async fn all_info(app: &App, extra: Value) -> (u16, Value) {
    let mut body = json!({"UserPublicKeyBase58Check": deso_public_key(OWNER), "Username": ""});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.deso(
        "admin/get-all-referral-info-for-user",
        as_admin(SUPER_ADMIN, body),
    )
    .await
}

fn hashes(v: &Value) -> Vec<String> {
    v["ReferralInfoResponses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["Info"]["ReferralHashBase58"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn codes_come_a_page_at_a_time() {
    let app = App::new().await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(create_hash(&app, OWNER, 100, 50, 0).await);
    }
    made.sort();
    // a DeSo client: everything fits in the first page, and no NextCursor
    let (s, v) = all_info(&app, json!({})).await;
    assert_eq!(s, 200, "{v}");
    let mut first = hashes(&v);
    first.sort();
    assert_eq!(first, made);
    assert!(v.get("NextCursor").is_none(), "{v}");

    // pages of 2
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for round in 0..4 {
        let (s, v) = all_info(&app, json!({"Limit": 2, "Cursor": cursor})).await;
        assert_eq!(s, 200, "{v}");
        seen.extend(hashes(&v));
        match v["NextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => {
                assert_eq!(round, 2, "5 codes in pages of 2");
                break;
            }
        }
    }
    seen.sort();
    assert_eq!(seen, made, "each code once");

    let (s, v) = all_info(&app, json!({"Limit": 101})).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = all_info(&app, json!({"Cursor": "not-a-cursor"})).await;
    assert_eq!(s, 400, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_with_more_referred_users_than_a_page_is_paged_alone() {
    let app = App::new().await;
    let code = create_hash(&app, OWNER, 100, 50, 0).await;
    let c = ReferralCode::try_from(code.as_str()).expect("code");
    // 1,001 referral records, written directly: the read path is what is tested
    let n = 1_001usize;
    let puts: Vec<WriteRequest> = (0..n)
        .map(|i| {
            let user = shared::domain::UserId::from_stored(format!("r{i:04}@x.io").as_str())
                .expect("user");
            let (pk, sk) = keys::code_referral(&c, 1_000_000 + i as u64, &user);
            let item = [
                ("PK", AttributeValue::S(pk)),
                ("SK", AttributeValue::S(sk)),
                ("user", AttributeValue::S(user.as_str().to_owned())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("put"),
                )
                .build()
        })
        .collect();
    for chunk in puts.chunks(25) {
        app.client
            .batch_write_item()
            .request_items(crate::harness::TABLE, chunk.to_vec())
            .send()
            .await
            .expect("batch write");
    }
    let (s, v) = all_info(&app, json!({})).await;
    assert_eq!(s, 400, "{v}");
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&code) && msg.contains("ReferralHashBase58"),
        "{msg}"
    );

    let (s, v) = all_info(&app, json!({"ReferralHashBase58": code})).await;
    assert_eq!(s, 200, "{v}");
    let page1 = v["ReferralInfoResponses"][0]["ReferredUsers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(page1.len(), 1_000);
    assert_eq!(
        page1[0]["PublicKeyBase58Check"], "r0000@x.io",
        "in the order they joined"
    );
    let cursor = v["NextCursor"].as_str().expect("more").to_owned();
    let (s, v) = all_info(&app, json!({"ReferralHashBase58": code, "Cursor": cursor})).await;
    assert_eq!(s, 200, "{v}");
    let page2 = v["ReferralInfoResponses"][0]["ReferredUsers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(page2, vec![json!({"PublicKeyBase58Check": "r1000@x.io"})]);
    assert!(v.get("NextCursor").is_none());

    // another user's hash is not this user's
    let (s, v) = app
        .deso(
            "admin/get-all-referral-info-for-user",
            as_admin(
                SUPER_ADMIN,
                json!({"UserPublicKeyBase58Check": deso_public_key(0x33), "ReferralHashBase58": code}),
            ),
        )
        .await;
    assert_eq!(s, 404, "{v}");
}

#[tokio::test]
async fn the_csv_download_comes_in_parts() {
    let app = App::new().await;
    for _ in 0..5 {
        create_hash(&app, OWNER, 100, 50, 0).await;
    }
    let full = crate::deso::download(&app).await;
    assert_eq!(full.len(), 6, "header and five rows");
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cursor = String::new();
    let mut parts = 0;
    loop {
        let (s, v) = app
            .deso(
                "admin/download-referral-csv",
                as_admin(SUPER_ADMIN, json!({"Limit": 2, "Cursor": cursor})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        parts += 1;
        let part: Vec<Vec<String>> = serde_json::from_value(v["CSVRows"].clone()).expect("rows");
        assert_eq!(part[0], full[0], "each part has the header");
        rows.extend(part.into_iter().skip(1));
        match v["NextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(parts, 3);
    assert_eq!(
        rows,
        full[1..].to_vec(),
        "the parts are the whole, in order"
    );
}
