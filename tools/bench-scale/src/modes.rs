//! The load modes: where each signup goes, and what counts as one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deso_sign as sign;
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};
use shared::clock::now_secs;

use crate::http::{Api, BoxError};
use crate::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Programs,
    Forest,
    OneTree,
    OneCode,
    CappedCode,
    DesoCode,
}

pub const MODES: [Mode; 6] = [
    Mode::Programs,
    Mode::Forest,
    Mode::OneTree,
    Mode::OneCode,
    Mode::CappedCode,
    Mode::DesoCode,
];

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Programs => "programs",
            Mode::Forest => "forest",
            Mode::OneTree => "one tree",
            Mode::OneCode => "one code",
            Mode::CappedCode => "one capped code",
            Mode::DesoCode => "one DeSo code",
        }
    }
}

/// Members of a tree and their depth below its root.
type Tree = Arc<Mutex<Vec<(String, u8)>>>;

enum Target {
    /// Client i grows `trees[i]` in `progs[i]` (shared entries when the mode shares them).
    Trees {
        progs: Vec<String>,
        trees: Vec<Tree>,
    },
    Code {
        code: String,
    },
    Deso {
        hash: String,
        admin: SigningKey,
    },
}

#[derive(Default)]
pub struct Tally {
    pub ok: AtomicU64,
    pub unavailable: AtomicU64,
    pub other: AtomicU64,
    pub first_other: Mutex<Option<String>>,
}

impl Tally {
    fn record(&self, status: u16, v: &Value, ok: bool) {
        let c = match (ok, status) {
            (true, _) => &self.ok,
            (false, 503) => &self.unavailable,
            _ => {
                if let Ok(mut f) = self.first_other.lock() {
                    f.get_or_insert_with(|| format!("{status} {v}"));
                }
                &self.other
            }
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct Outcome {
    pub mode: Mode,
    pub secs: f64,
    pub tally: Tally,
    pub stats: Value,
}

impl Outcome {
    pub fn per_sec(&self) -> f64 {
        self.tally.ok.load(Ordering::Relaxed) as f64 / self.secs
    }
}

async fn expect(
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
    let v = expect(
        api.call(
            "GET",
            &format!("/networks/demo/connections/{prog}/users/owner%40b.io/codes"),
            None,
        )
        .await,
        200,
        "codes",
    )
    .await?;
    v["codes"][0]["code"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no code".into())
}

fn admin_body(admin: &SigningKey, extra: Value) -> Value {
    let mut v = json!({"AdminPublicKey": sign::public_key(admin), "JWT": sign::session_jwt(admin, now_secs())});
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    v
}

async fn setup(
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
async fn first_referee(api: &Api, target: &Target, run: &str) -> Result<(), BoxError> {
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
async fn signup(
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

/// Runs `mode` with `clients` clients for `secs`, through the proxy's current hold.
pub async fn run(
    api: &Api,
    mode: Mode,
    run: &str,
    clients: usize,
    secs: f64,
    admin: &SigningKey,
) -> Result<Outcome, BoxError> {
    let target = setup(api, mode, run, clients, admin).await?;
    if matches!(target, Target::Code { .. } | Target::Deso { .. }) {
        first_referee(api, &target, run).await?;
    }
    let target = Arc::new(target);
    api.proxy("reset").await?;
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (api, target, tally, run) =
            (api.clone(), target.clone(), tally.clone(), run.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new();
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                if let Err(e) = signup(&api, &target, &run, c, n, &mut rng, &tally).await {
                    tally.record(0, &json!(e.to_string()), false);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = api.proxy("stats").await?;
    let tally = Arc::try_unwrap(tally).map_err(|_| "clients still running")?;
    Ok(Outcome {
        mode,
        secs,
        tally,
        stats,
    })
}

/// Fills a code capped at `cap` with `clients` clients: (signups, the code's total, seconds).
pub async fn fill_cap(
    api: &Api,
    run: &str,
    clients: usize,
    cap: u64,
) -> Result<(u64, u64, f64), BoxError> {
    let prog = format!("{run}-fill");
    let code = code_of_new_program(api, &prog, cap).await?;
    let ok = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (api, code, ok, run) = (api.clone(), code.clone(), ok.clone(), run.to_owned());
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let body = json!({"user": format!("f-{run}-{c}-{n}@b.io"), "status_change": "create_user", "referrer": code});
                match api.call("POST", "/networks/demo/user_status", Some(&body)).await {
                    Ok((201, _)) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((409, v)) if v["error"]["code"] == "code_unavailable" => break,
                    _ => {}
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = start.elapsed().as_secs_f64();
    let v = expect(
        api.call(
            "GET",
            &format!("/networks/demo/connections/{prog}/users/owner%40b.io/codes"),
            None,
        )
        .await,
        200,
        "codes",
    )
    .await?;
    Ok((
        ok.load(Ordering::Relaxed),
        v["codes"][0]["total_referrals"].as_u64().unwrap_or(0),
        secs,
    ))
}
