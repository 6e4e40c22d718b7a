//! init-bench: release binaries behind local-gateway's Runtime API, on DynamoDB Local.
//!
//!   init-bench <bin dir> <events dir> <runs> <warm invocations> <target>...
//!
//! A target is `<binary>[@<variant>]`: `<bin dir>/<target>` is run (with the settings of
//! `<target>.env` beside it, if any) on `<events dir>/<binary>.json`; the floors take any event.
//! Each run starts every target afresh, interleaved, and measures: init (process start to its
//! first poll of the Runtime API), the first response (start to the first answer), the first
//! invocation (first poll to the first answer), warm p50 and p95 over the invocations that
//! follow, and peak RSS (VmHWM). It prints the medians over the runs and their ratios to the
//! two floors, the first targets named `floor-hello` and `floor-sdk` (with any variant): a bare
//! `lambda_http` function and the SDK floor (the DynamoDB client built in main, one GetItem a
//! request).

use std::time::{Duration, Instant};

use bytes::Bytes;
use local_gateway::runtime::{Host, Outcome};
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The event a floor is sent.
const FLOOR_EVENT: &str = "get-user-connections";

/// Picks one measure out of a target's samples.
type Measure = fn(&Samples) -> &Vec<f64>;

#[derive(Default)]
struct Samples {
    init: Vec<f64>,
    first: Vec<f64>,
    first_invoke: Vec<f64>,
    p50: Vec<f64>,
    p95: Vec<f64>,
    rss_kib: Vec<f64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s.get(((s.len().saturating_sub(1)) as f64 * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

fn peak_rss_kib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One invocation that must answer 2xx.
async fn call(host: &Host, name: &str, event: &Bytes) -> Result<(), BoxError> {
    match host
        .invoke(name, event.clone(), Duration::from_secs(30))
        .await
    {
        Some(Outcome::Response(out)) => {
            let v: Value = serde_json::from_slice(&out)?;
            let status = v["statusCode"].as_u64().unwrap_or(200);
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(format!("{name}: status {status}: {}", v["body"]).into())
            }
        }
        Some(Outcome::Error(out)) => {
            Err(format!("{name}: {}", String::from_utf8_lossy(&out)).into())
        }
        None => Err(format!("{name}: no answer").into()),
    }
}

async fn sample(
    host: &Host,
    name: &str,
    event: &Bytes,
    warm: usize,
    s: &mut Samples,
) -> Result<(), BoxError> {
    host.stop(name);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    call(host, name, event).await?;
    let first = t0.elapsed();
    let life = host.life(name).ok_or("no such function")?;
    let (Some(started), Some(polled)) = (life.started, life.first_poll) else {
        return Err(format!("{name}: never polled").into());
    };
    let mut lat = Vec::with_capacity(warm);
    for _ in 0..warm {
        let t = Instant::now();
        call(host, name, event).await?;
        lat.push(ms(t.elapsed()));
    }
    let rss = life
        .pids
        .first()
        .and_then(|p| peak_rss_kib(*p))
        .unwrap_or(f64::NAN);
    let init = ms(polled.duration_since(started));
    s.init.push(init);
    s.first.push(ms(first));
    s.first_invoke.push(ms(first) - init);
    s.p50.push(percentile(&lat, 0.5));
    s.p95.push(percentile(&lat, 0.95));
    s.rss_kib.push(rss);
    host.stop(name);
    Ok(())
}

fn base(target: &str) -> &str {
    target.split('@').next().unwrap_or(target)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bin_dir, events_dir, runs, warm, targets @ ..] = args.as_slice() else {
        return Err("usage: init-bench <bin dir> <events dir> <runs> <warm> <target>...".into());
    };
    let (runs, warm): (usize, usize) = (runs.parse()?, warm.parse()?);
    let names: Vec<&'static str> = targets
        .iter()
        .map(|t| &*Box::leak(t.clone().into_boxed_str()))
        .collect();
    let floor = |b: &str| {
        names
            .iter()
            .position(|n| base(n) == b)
            .ok_or_else(|| format!("no {b} among the targets"))
    };
    let (hello, sdk) = (floor("floor-hello")?, floor("floor-sdk")?);
    let (_, host) = local_gateway::start_with(
        ([127, 0, 0, 1], 0).into(),
        bin_dir.into(),
        1,
        names.iter().copied(),
    )
    .await?;
    let mut events = Vec::new();
    for name in &names {
        let ev = match base(name) {
            b if b.starts_with("floor-") => FLOOR_EVENT,
            b => b,
        };
        events.push(Bytes::from(std::fs::read(format!(
            "{events_dir}/{ev}.json"
        ))?));
    }
    let mut samples: Vec<Samples> = names.iter().map(|_| Samples::default()).collect();
    for run in 1..=runs {
        for (i, name) in names.iter().enumerate() {
            sample(&host, name, &events[i], warm, &mut samples[i]).await?;
        }
        eprintln!("init-bench: run {run}/{runs} done");
    }
    let m = |i: usize, f: Measure| median(f(&samples[i]));
    let fields: [(&str, Measure); 6] = [
        ("init", |s| &s.init),
        ("first response", |s| &s.first),
        ("first invocation", |s| &s.first_invoke),
        ("warm p50", |s| &s.p50),
        ("warm p95", |s| &s.p95),
        ("peak RSS", |s| &s.rss_kib),
    ];
    println!(
        "medians of {runs} interleaved runs, {warm} warm invocations each; ratios to {} / {}\n",
        names[hello], names[sdk]
    );
    println!("| binary | init ms | first response ms | first invocation ms | warm p50 ms | warm p95 ms | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|");
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<String> = fields
            .iter()
            .map(|(field, f)| {
                let (v, h, s) = (m(i, *f), m(hello, *f), m(sdk, *f));
                let shown = if *field == "peak RSS" { v / 1024.0 } else { v };
                format!("{shown:.2} (x{:.2} / x{:.2})", v / h, v / s)
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    Ok(())
}
