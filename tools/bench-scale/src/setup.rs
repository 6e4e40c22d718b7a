//! Setting a mode up (its program, code, referrers and admin) and one signup of it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use deso_sign as sign;
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};
use shared::clock::now_secs;

use crate::http::{Api, BoxError};
use crate::modes::{Mode, Tally, Target, Tree};
use crate::rng::Rng;

pub(crate) async fn expect(
    r: Result<(u16, Value), BoxError>,
    want: u16,
    what: &str,
) -> Result<Value, BoxError> {
    match r? {
        (s, v) if s == want => Ok(v),
        (s, v) => Err(format!("{what}: {s} {v}").into()),
    }
}

/// A program of the demo network with `max_referrals_per_code`, and its owner's default code.
pub async fn code_of_new_program(api: &Api, prog: &str, max: u64) -> Result<String, BoxError> {
    let body = json!({ "max_referrals_per_code": max });
    expect(
        api.call(
            "PUT",
            &format!("/networks/demo/connections/{prog}"),
            Some(&body),
        )
        .await,
        201,
        "program",
    )
    .await?;
    let v = owner_codes(api, prog).await?;
    v["codes"][0]["code"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no code".into())
}

/// GET Connection Codes of the program's owner.
pub(crate) async fn owner_codes(api: &Api, prog: &str) -> Result<Value, BoxError> {
    expect(
        api.call(
            "GET",
            &format!("/networks/demo/connections/{prog}/users/owner%40b.io/codes"),
            None,
        )
        .await,
        200,
        "codes",
    )
    .await
}

pub(crate) fn admin_body(admin: &SigningKey, extra: Value) -> Value {
    let mut v = json!({"AdminPublicKey": sign::public_key(admin), "JWT": sign::session_jwt(admin, now_secs())});
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    v
}

pub(crate) async fn setup(
    api: &Api,
    mode: Mode,
    run: &str,
    clients: usize,
    admin: &SigningKey,
) -> Result<Target, BoxError> {
    let tree = |root: String| -> Tree { Arc::new(Mutex::new(vec![(root, 0)])) };
    Ok(match mode {
        Mode::Programs | Mode::Forest | Mode::OneTree => {
            let progs: Vec<String> = (0..clients)
                .map(|i| match mode {
                    Mode::Programs => format!("{run}-p{i}"),
                    _ => format!("{run}-shared"),
                })
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            for p in &progs {
                if seen.insert(p.clone()) {
                    expect(
                        api.call(
                            "PUT",
                            &format!("/networks/demo/connections/{p}"),
                            Some(&json!({})),
                        )
                        .await,
                        201,
                        "program",
                    )
                    .await?;
                }
            }
            let trees = if mode == Mode::OneTree {
                vec![tree(format!("root-{run}@b.io")); clients]
            } else {
                (0..clients)
                    .map(|i| tree(format!("root{i}-{run}@b.io")))
                    .collect()
            };
            // Each root's first referee writes the root's membership once; that one-time
            // write is not what the mode measures.
            for (i, (p, t)) in progs.iter().zip(&trees).enumerate() {
                if mode == Mode::OneTree && i > 0 {
                    break;
                }
                let root = t.lock().map_err(|_| "poisoned")?[0].0.clone();
                let body = json!({"user": format!("first{i}-{run}@b.io"), "connection": root});
                let path = format!("/networks/demo/connections/{p}");
                expect(
                    api.call("POST", &path, Some(&body)).await,
                    201,
                    "first referee",
                )
                .await?;
            }
            Target::Trees { progs, trees }
        }
        Mode::OneCode => Target::Code {
            code: code_of_new_program(api, &format!("{run}-code"), 0).await?,
        },
        Mode::CappedCode => Target::Code {
            code: code_of_new_program(api, &format!("{run}-capped"), 1_000_000_000).await?,
        },
        Mode::DesoCode => {
            let owner = SigningKey::from_slice(&Rng::new().seed())?;
            let v = expect(
                api.deso(
                    "admin/create-referral-hash",
                    &admin_body(
                        admin,
                        json!({"UserPublicKeyBase58Check": sign::public_key(&owner), "RefereeAmountUSDCents": 500,
                               "ReferrerAmountUSDCents": 300, "MaxReferrals": 0, "RequiresJumio": true}),
                    ),
                )
                .await,
                200,
                "create-referral-hash",
            )
            .await?;
            let hash = v["ReferralInfoResponse"]["Info"]["ReferralHashBase58"]
                .as_str()
                .ok_or("no hash")?
                .to_owned();
            Target::Deso {
                hash,
                admin: admin.clone(),
            }
        }
    })
}

/// The owner's first referee through the code: its one-time write is not what is measured.
pub(crate) async fn first_referee(api: &Api, target: &Target, run: &str) -> Result<(), BoxError> {
    let tally = Tally::default();
    signup(api, target, run, usize::MAX, 0, &mut Rng::new(), &tally).await?;
    if tally.ok.load(Ordering::Relaxed) != 1 {
        let first = tally
            .first_other
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default();
        return Err(format!("first referee: {first:?}").into());
    }
    Ok(())
}

/// One signup by client `c`, recorded in `tally`.
pub(crate) async fn signup(
    api: &Api,
    target: &Target,
    run: &str,
    c: usize,
    n: u64,
    rng: &mut Rng,
    tally: &Tally,
) -> Result<(), BoxError> {
    let user = format!("u-{run}-{c}-{n}@b.io");
    match target {
        Target::Trees { progs, trees } => {
            let (referrer, depth) = {
                let t = trees[c].lock().map_err(|_| "poisoned")?;
                let open: Vec<&(String, u8)> = t.iter().filter(|(_, d)| *d < 10).collect();
                let pick = open[rng.below(open.len())];
                (pick.0.clone(), pick.1)
            };
            let body = json!({"user": user, "connection": referrer});
            let (s, v) = api
                .call(
                    "POST",
                    &format!("/networks/demo/connections/{}", progs[c]),
                    Some(&body),
                )
                .await?;
            tally.record(s, &v, s == 201);
            if s == 201 {
                trees[c]
                    .lock()
                    .map_err(|_| "poisoned")?
                    .push((user, depth + 1));
            }
        }
        Target::Code { code } => {
            let body = json!({"user": user, "status_change": "create_user", "referrer": code});
            let (s, v) = api
                .call("POST", "/networks/demo/user_status", Some(&body))
                .await?;
            tally.record(s, &v, s == 201 && !v["connection"].is_null());
        }
        Target::Deso { hash, admin } => {
            let sk = SigningKey::from_slice(&rng.seed())?;
            let key = sign::public_key(&sk);
            let begin = json!({"PublicKeyBase58Check": key, "JWT": sign::session_jwt(&sk, now_secs()), "ReferralHashBase58": hash});
            let (s, v) = api.deso("jumio-begin", &begin).await?;
            if s != 200 {
                tally.record(s, &v, false);
                return Ok(());
            }
            let (s, v) = api
                .deso(
                    "admin/jumio-callback",
                    &admin_body(admin, json!({"PublicKeyBase58Check": key})),
                )
                .await?;
            tally.record(s, &v, s == 200 && v["ReferralCounted"] == true);
        }
    }
    Ok(())
}
