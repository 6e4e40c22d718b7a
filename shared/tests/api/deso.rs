//! Helpers of the DeSo-compatible routes' tests: hashes, begins and callbacks, settings, the
//! referral CSV. The tests are in `deso_*.rs`, by concern.

use serde_json::{json, Value};

use crate::harness::{as_admin, as_user, deso_jwt, deso_public_key, App, SUPER_ADMIN};

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

/// A user starts signing up with `code`.
pub async fn begin(app: &App, user: u8, code: &str) -> (u16, Value) {
    app.deso(
        "jumio-begin",
        as_user(user, json!({"ReferralHashBase58": code})),
    )
    .await
}

/// The admin reports that `user`'s verification succeeded.
pub async fn callback(app: &App, user: u8) -> (u16, Value) {
    app.deso(
        "admin/jumio-callback",
        as_admin(
            SUPER_ADMIN,
            json!({"PublicKeyBase58Check": deso_public_key(user)}),
        ),
    )
    .await
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

pub fn code_info(v: &Value, code: &str) -> Value {
    v["ReferralInfoResponses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Info"]["ReferralHashBase58"] == code)
        .cloned()
        .unwrap()
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
