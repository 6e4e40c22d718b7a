//! The referral CSV: download, and uploads validated whole before anything is written.

use serde_json::json;

use crate::deso::*;
use crate::harness::*;

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
