//! The local demo: `seed-demo` creates what the sample events in `events/` name, and `events`
//! writes copies of those events whose DeSo JWTs are signed afresh by the demo seeds.

use std::path::Path;

use deso_sign as sign;
use shared::auth::deso::{verify_jwt, JwtError, JwtPolicy};
use shared::clock::now_secs;
use shared::config::endpoint_is_local;
use shared::domain::reward::{EventIn, RulePatch};
use shared::domain::DesoPublicKey;
use shared::domain::{
    CodeConfig, NetworkId, ProgramId, ProgramPatch, ReferralCode, UsdCents, UserId,
};
use shared::store::api_keys::KeyProbe;
use shared::store::graph::link::LinkRequest;
use shared::store::jobs::{JobItem, JobStatus, Phase};
use shared::store::rewards::payouts::PayoutItem;
use shared::{auth, clock};

use crate::{err, state, USAGE};

/// Shortest demo key accepted: a guessable key would open the demo network to anyone.
const MIN_DEMO_KEY_LEN: usize = 16;
/// The key the sample events carry, used when `REFNET_DEMO_API_KEY` is not set.
pub const DEMO_API_KEY: &str = "refnet-local-demo-key";
/// The published demo seeds: the admin, the user who begins a sign-up, the user credited.
pub const ADMIN_SEED: u8 = 0xa1;
pub const USER_SEED: u8 = 0xb2;
pub const CREDITED_SEED: u8 = 0xc3;
const SEEDS: [u8; 3] = [ADMIN_SEED, USER_SEED, CREDITED_SEED];
const DEMO_CODE: &str = "ReFnetD1";
const DEMO_JOB: &str = "DemoJob1111111111";
const DEMO_PAYOUT: &str = "DemoPayout111111";
/// Fresh event JWTs live as long as a DeSo session token (`sign::session_jwt`): within the
/// admin routes' cap.
const EVENT_JWT_TTL_SECS: u64 = 30 * 60;

fn signing_key(seed: u8) -> Result<k256::ecdsa::SigningKey, String> {
    k256::ecdsa::SigningKey::from_slice(&[seed; 32]).map_err(|_| "bad demo seed".to_owned())
}

/// `seed-demo`: the demo network, program and key, and everything the sample events name.
pub async fn seed() -> Result<(), String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok();
    if !endpoint_is_local(endpoint.as_deref()) {
        return Err(
            "seed-demo only runs against a local DynamoDB: set AWS_ENDPOINT_URL_DYNAMODB to \
             http://127.0.0.1:<port>; on AWS, use create-network"
                .into(),
        );
    }
    let key = match std::env::var("REFNET_DEMO_API_KEY") {
        Ok(k) if !k.trim().is_empty() => k.trim().to_owned(),
        _ => DEMO_API_KEY.to_owned(),
    };
    if key.len() < MIN_DEMO_KEY_LEN {
        return Err(format!(
            "REFNET_DEMO_API_KEY must be at least {MIN_DEMO_KEY_LEN} characters"
        ));
    }
    let s = state().await?;
    let store = &s.store;
    store.ensure_table().await.map_err(err)?;
    let net = NetworkId::try_from("demo").map_err(err)?;
    let prog = ProgramId::try_from("default").map_err(err)?;
    if !store
        .register_key(&net, &auth::hash_key(&key))
        .await
        .map_err(err)?
    {
        return Err("REFNET_DEMO_API_KEY is already a key of another network".into());
    }
    let now = clock::now();
    for p in [&prog, &s.config.deso_program_id] {
        if store.get_program(&net, p).await.map_err(err)?.is_none() {
            store
                .upsert_program(&net, p, &ProgramPatch::default(), &now.rfc3339)
                .await
                .map_err(err)?;
        }
    }
    // bob under alice: what change-referrer and remove-referrer correct. A refusal (bob already
    // has a referrer from an earlier run) leaves the data as it is.
    let (alice, bob) = (
        UserId::from_stored("alice@example.com").map_err(err)?,
        UserId::from_stored("bob@example.com").map_err(err)?,
    );
    store
        .link(&LinkRequest::new(&net, &prog, &bob, &alice), None)
        .await
        .map_err(err)?;

    // A rule and a purchase of bob's, so that the rule, event and rewards samples read data.
    let probe = KeyProbe::of_hash(&auth::hash_key(&key));
    let rule: RulePatch = serde_json::from_value(serde_json::json!({
        "event": "purchase",
        "levels": [{"level": 1, "percent_bps": 1000}, {"level": 2, "amount_usd_cents": 50}],
    }))
    .map_err(err)?;
    // Subscriptions earn after a 30-day hold: pending rewards to approve and to void.
    let review: RulePatch = serde_json::from_value(serde_json::json!({
        "event": "subscription", "levels": [{"level": 1, "amount_usd_cents": 500}], "hold_days": 30,
    }))
    .map_err(err)?;
    for (id, r) in [("purchase-l1", &rule), ("subscription-review", &review)] {
        let rule_id = ProgramId::try_from(id).map_err(err)?;
        store
            .put_rule(&net, &prog, &rule_id, &probe, r, &now.rfc3339)
            .await
            .map_err(err)?;
    }
    // Purchases and subscriptions, their rewards written at once (the consumer would, seconds
    // later): one to pay, one to reverse, one to approve, one to void; and a finished payout.
    for (id, event, amount) in [
        ("demo-order-1", "purchase", 5000),
        ("demo-refund-1", "purchase", 1000),
        ("demo-sub-1", "subscription", 0),
        ("demo-sub-2", "subscription", 0),
    ] {
        let order: EventIn = serde_json::from_value(serde_json::json!({
            "event_id": id, "user": "bob@example.com", "event": event, "amount_usd_cents": amount,
        }))
        .map_err(err)?;
        store
            .accept_event(&net, &probe, &bob, &order.validate().map_err(err)?)
            .await
            .map_err(err)?;
        if let Some((ev, _)) = store
            .get_event(&net, &probe, id)
            .await
            .map_err(err)?
            .ok()
            .flatten()
        {
            store.settle_event(&ev).await.map_err(err)?;
        }
    }
    store
        .put_payout(&demo_payout(&net, &now))
        .await
        .map_err(err)?;

    let deso_net = &s.config.deso_network_id;
    let user = |seed: u8| -> Result<UserId, String> {
        DesoPublicKey::of_seed(&[seed; 32], s.config.deso_key_network)
            .map(UserId::Deso)
            .ok_or_else(|| "bad demo seed".to_owned())
    };
    let code = ReferralCode::try_from(DEMO_CODE).map_err(err)?;
    let cents = |v| UsdCents::of("demo", v).map_err(err);
    let config = CodeConfig {
        referrer_amount_usd_cents: cents(500)?,
        referee_amount_usd_cents: cents(1000)?,
        max_referrals: 0,
        requires_jumio: true,
    };
    store
        .create_named_code(
            deso_net,
            &s.config.deso_program_id,
            &user(ADMIN_SEED)?,
            config,
            &code,
        )
        .await
        .map_err(err)?;
    // The credited user began with the demo code, so the callback event counts a referral.
    store
        .jumio_begin(deso_net, &user(CREDITED_SEED)?, &code)
        .await
        .map_err(err)?;
    store
        .insert_job(&demo_job(&net, &prog, &now))
        .await
        .map_err(err)?;
    crate::demo_hooks::seed(store, &net, &now).await?;
    println!("demo network 'demo', program 'default', referral hash {DEMO_CODE}, job {DEMO_JOB}");
    println!("demo API key: {key}");
    Ok(())
}

/// A finished payout, so that `events/get-payout.json` has one to read.
fn demo_payout(net: &NetworkId, now: &clock::Now) -> PayoutItem {
    PayoutItem {
        network_id: net.as_str().to_owned(),
        payout_id: DEMO_PAYOUT.into(),
        status: "done".into(),
        program_id: Some("default".into()),
        min_amount_usd_cents: 1,
        cutoff_ns: now.ns,
        created_at: now.rfc3339.clone(),
        programs: vec!["default".into()],
        phase: "finish".into(),
        prog_idx: 0,
        shard: 0,
        after: None,
        step: 0,
        users: 0,
        total_usd_cents: 0,
    }
}

/// A finished move, so that `events/get-job.json` has a job to read.
fn demo_job(net: &NetworkId, prog: &ProgramId, now: &clock::Now) -> JobItem {
    JobItem {
        id: DEMO_JOB.into(),
        network_id: net.as_str().into(),
        program_id: prog.as_str().into(),
        kind: "move".into(),
        user: "bob@example.com".into(),
        referrer: Some("carol@example.com".into()),
        metadata: None,
        status: JobStatus::Done,
        reason: None,
        moved: 0,
        total: 0,
        source_root: "alice@example.com".into(),
        dest_root: "carol@example.com".into(),
        new_top: Vec::new(),
        dest_epoch: 0,
        connected_ns: now.ns,
        state: Phase::Finished,
        lease_until: 0,
        version: 0,
        created_at: now.rfc3339.clone(),
        armed: true,
        progress_at_ms: 0,
        cancel: false,
    }
}

/// `events [--issued-at SECS] [FROM TO]`: copies of the events with every JWT that a demo seed
/// signed signed again, valid for 30 minutes from now (or from SECS, which is how the
/// committed samples were made: expired).
pub fn events(args: &[&str]) -> Result<(), String> {
    let (at, rest) = match args {
        ["--issued-at", t, rest @ ..] => (
            t.parse::<u64>()
                .map_err(|_| "--issued-at takes seconds since the epoch")?,
            rest,
        ),
        rest => (now_secs(), rest),
    };
    let (from, to) = match rest {
        [] => ("events", ".tools/events"),
        [from, to] => (*from, *to),
        _ => return Err(USAGE.into()),
    };
    let mut names: Vec<_> = std::fs::read_dir(from)
        .map_err(|e| format!("{from}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    std::fs::create_dir_all(to).map_err(|e| format!("{to}: {e}"))?;
    let mut signed = 0;
    for path in &names {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path:?}: {e}"))?;
        let (fresh, n) = resign(&text, at)?;
        signed += n;
        let name = path.file_name().ok_or("an event without a name")?;
        std::fs::write(Path::new(to).join(name), fresh).map_err(|e| format!("{to}: {e}"))?;
    }
    println!(
        "{} events written to {to}, {signed} JWTs signed, valid until {}",
        names.len(),
        at + EVENT_JWT_TTL_SECS
    );
    Ok(())
}

/// Where the next JWT-looking text starts in `text`, and its length.
fn next_token(text: &str) -> Option<(usize, usize)> {
    let i = text.find("eyJ")?;
    let len = text[i..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len() - i);
    Some((i, len))
}

/// `text` with each JWT of a demo seed replaced by one issued at `at`; other text untouched.
pub fn resign(text: &str, at: u64) -> Result<(String, usize), String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut n = 0;
    while let Some((i, len)) = next_token(rest) {
        out.push_str(&rest[..i]);
        let token = &rest[i..i + len];
        match signer(token)? {
            Some(seed) => {
                out.push_str(&sign::session_jwt(&signing_key(seed)?, at));
                n += 1;
            }
            None => out.push_str(token),
        }
        rest = &rest[i + len..];
    }
    out.push_str(rest);
    Ok((out, n))
}

/// The demo seed whose key signed `token`, whatever its times.
fn signer(token: &str) -> Result<Option<u8>, String> {
    if token.matches('.').count() != 2 {
        return Ok(None);
    }
    for seed in SEEDS {
        let key = DesoPublicKey::of_seed(&[seed; 32], shared::domain::ids::DesoNetwork::Mainnet)
            .ok_or("bad demo seed")?;
        match verify_jwt(token, &key, 0, JwtPolicy::USER) {
            Ok(()) | Err(JwtError::NotYetValid) => return Ok(Some(seed)),
            Err(_) => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin_key() -> shared::domain::DesoPublicKey {
        DesoPublicKey::of_seed(&[ADMIN_SEED; 32], shared::domain::ids::DesoNetwork::Mainnet)
            .expect("key")
    }

    #[test]
    fn resigned_tokens_are_valid_admin_tokens_and_other_text_stays() {
        let old = sign::jwt(
            &signing_key(ADMIN_SEED).expect("key"),
            &serde_json::json!({"alg": "ES256", "typ": "JWT"}),
            &serde_json::json!({"iat": 1_000, "exp": 2_000}),
        );
        let stranger = sign::jwt(
            &signing_key(0x77).expect("key"),
            &serde_json::json!({"alg": "ES256", "typ": "JWT"}),
            &serde_json::json!({"iat": 1_000}),
        );
        let text = format!("{{\"JWT\": \"{old}\", \"Other\": \"{stranger}\", \"x\": \"eyJ\"}}");
        let now = now_secs();
        let policy = JwtPolicy::admin(3600);
        assert_eq!(
            verify_jwt(&old, &admin_key(), now, policy),
            Err(JwtError::Expired)
        );
        let (fresh, n) = resign(&text, now).expect("resign");
        assert_eq!(n, 1);
        let v: serde_json::Value = serde_json::from_str(&fresh).expect("still JSON");
        let token = v["JWT"].as_str().expect("a token");
        assert_eq!(verify_jwt(token, &admin_key(), now, policy), Ok(()));
        assert_eq!(
            v["Other"],
            stranger.as_str(),
            "only demo seeds' tokens change"
        );
        assert_eq!(v["x"], "eyJ");
    }

    /// The committed samples carry no JWT that is still valid: each was issued long ago and
    /// has expired, so a published seed's token never works as it stands.
    #[test]
    fn the_committed_events_carry_only_expired_tokens() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("events/") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            let (_, n) = resign(&text, 0).expect("resign");
            seen += n;
            let mut rest = text.as_str();
            while let Some((i, len)) = next_token(rest) {
                let token = &rest[i..i + len];
                for seed in SEEDS {
                    let key = DesoPublicKey::of_seed(
                        &[seed; 32],
                        shared::domain::ids::DesoNetwork::Mainnet,
                    )
                    .expect("key");
                    let got = verify_jwt(token, &key, now_secs(), JwtPolicy::USER);
                    assert!(
                        matches!(got, Err(JwtError::BadSignature) | Err(JwtError::Expired)),
                        "a sample token still verifies: {got:?}"
                    );
                }
                rest = &rest[i + len..];
            }
        }
        assert!(seen >= 13, "the DeSo events carry demo tokens ({seen})");
    }
}
