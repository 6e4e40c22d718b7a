//! The load modes: where each signup goes, and what counts as one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k256::ecdsa::SigningKey;
use serde_json::{json, Value};

use crate::http::{Api, BoxError};
use crate::rng::Rng;
use crate::setup::{code_of_new_program, first_referee, owner_codes, setup, signup};

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
pub(crate) type Tree = Arc<Mutex<Vec<(String, u8)>>>;

pub(crate) enum Target {
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
    pub(crate) fn record(&self, status: u16, v: &Value, ok: bool) {
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
    let v = owner_codes(api, &prog).await?;
    Ok((
        ok.load(Ordering::Relaxed),
        v["codes"][0]["total_referrals"].as_u64().unwrap_or(0),
        secs,
    ))
}
