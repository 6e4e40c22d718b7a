//! Events under load: POST events from referees at depths 1..10, each earning 1 cent per level
//! for its whole upline, with every client's chain under a top referrer of its own
//! (independent) or all of them under one (one top referrer, whose balance every event moves).
//! Reports events/s, 503s, the proxy's conflicts, and the lag from 202 to `settled`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{Api, BoxError};
use crate::modes::Tally;
use crate::rng::Rng;
use crate::setup::expect;

/// Every how many events a client follows one to `settled`.
const SAMPLE_EVERY: u64 = 20;

pub struct EventsOutcome {
    pub name: &'static str,
    pub per_sec: f64,
    pub tally: Tally,
    pub stats: Value,
    /// Seconds from 202 to settled, sorted.
    pub lags: Vec<f64>,
}

impl EventsOutcome {
    pub fn lag(&self, q: f64) -> f64 {
        if self.lags.is_empty() {
            return f64::NAN;
        }
        let i = ((self.lags.len() - 1) as f64 * q).round() as usize;
        self.lags[i]
    }
}

async fn link(api: &Api, prog: &str, user: &str, referrer: &str) -> Result<(), BoxError> {
    let body = json!({"user": user, "connection": referrer});
    expect(
        api.call(
            "POST",
            &format!("/networks/demo/connections/{prog}"),
            Some(&body),
        )
        .await,
        201,
        "link",
    )
    .await
    .map(|_| ())
}

/// A program with a 10-level purchase rule, and per client a chain of 10 below its top
/// referrer (`shared`: one top referrer for all). Returns each client's chain, top first.
async fn setup(
    api: &Api,
    run: &str,
    clients: usize,
    shared: bool,
) -> Result<Vec<Vec<String>>, BoxError> {
    let prog = format!("{run}-ev");
    expect(
        api.call(
            "PUT",
            &format!("/networks/demo/connections/{prog}"),
            Some(&json!({})),
        )
        .await,
        201,
        "program",
    )
    .await?;
    let levels: Vec<Value> = (1..=10)
        .map(|l| json!({"level": l, "amount_usd_cents": 1}))
        .collect();
    let rule = json!({"rule": {"event": "purchase", "levels": levels}});
    expect(
        api.call(
            "PUT",
            &format!("/networks/demo/connections/{prog}/rules/buy"),
            Some(&rule),
        )
        .await,
        201,
        "rule",
    )
    .await?;
    let mut chains = Vec::new();
    for c in 0..clients {
        let top = if shared {
            format!("top-{run}@b.io")
        } else {
            format!("top-{run}-{c}@b.io")
        };
        let mut chain = vec![top];
        for d in 1..=10 {
            let user = format!("m-{run}-{c}-{d}@b.io");
            link(api, &prog, &user, &chain[d - 1]).await?;
            chain.push(user);
        }
        chains.push(chain);
    }
    Ok(chains)
}

/// Polls an event until settled; its lag in seconds from `accepted`.
async fn settled_after(api: &Api, id: &str, accepted: Instant) -> Option<f64> {
    for _ in 0..600 {
        if let Ok((200, v)) = api
            .call("GET", &format!("/networks/demo/events/{id}"), None)
            .await
        {
            if v["event"]["settled"] == true {
                return Some(accepted.elapsed().as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

pub async fn run(
    api: &Api,
    name: &'static str,
    run: &str,
    clients: usize,
    secs: f64,
    shared: bool,
) -> Result<EventsOutcome, BoxError> {
    let chains = Arc::new(setup(api, run, clients, shared).await?);
    api.proxy("reset").await?;
    let tally = Arc::new(Tally::default());
    let lags = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    let followers = Arc::new(Mutex::new(Vec::new()));
    for c in 0..clients {
        let (api, chains, tally, lags, followers, run) = (
            api.clone(),
            chains.clone(),
            tally.clone(),
            lags.clone(),
            followers.clone(),
            run.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new();
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let depth = 1 + rng.below(10);
                let id = format!("{run}-{c}-{n}");
                let body = json!({"event_id": id, "user": chains[c][depth], "event": "purchase", "amount_usd_cents": 100});
                let sent = Instant::now();
                match api.call("POST", "/networks/demo/events", Some(&body)).await {
                    Ok((s, v)) => {
                        tally.record(s, &v, s == 202);
                        if s == 202 && n.is_multiple_of(SAMPLE_EVERY) {
                            let (api, lags) = (api.clone(), lags.clone());
                            let follow = tokio::spawn(async move {
                                if let Some(l) = settled_after(&api, &id, sent).await {
                                    if let Ok(mut g) = lags.lock() {
                                        g.push(l);
                                    }
                                }
                            });
                            if let Ok(mut f) = followers.lock() {
                                f.push(follow);
                            }
                        }
                    }
                    Err(e) => tally.record(0, &json!(e.to_string()), false),
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let stats = api.proxy("stats").await?;
    let pending: Vec<_> = followers
        .lock()
        .map(|mut f| std::mem::take(&mut *f))
        .unwrap_or_default();
    for f in pending {
        let _ = f.await;
    }
    let tally = Arc::try_unwrap(tally).map_err(|_| "clients still running")?;
    let mut lags = lags.lock().map(|l| l.clone()).unwrap_or_default();
    lags.sort_by(f64::total_cmp);
    Ok(EventsOutcome {
        name,
        per_sec: tally.ok.load(Ordering::Relaxed) as f64 / elapsed,
        tally,
        stats,
        lags,
    })
}
