//! bench-scale: signups under load, over HTTP, through the conflict proxy, one mode per way
//! signups can share items; prints signups/s, 503s, conflicts and the hottest items, then each
//! mode's rate as a ratio to `programs` (nothing shared).
//!
//!   bench-scale <API base> <proxy base> <network key> [seconds per mode] [holds, e.g. 20,50]
//!
//! `BENCH_ADMIN_SEED` (64 hex) is the super admin the DeSo mode signs with.

mod events;
mod http;
mod modes;
mod rng;
mod setup;

use std::sync::atomic::Ordering;

use http::{Api, BoxError};
use modes::{Mode, Outcome, MODES};

const CLIENTS: usize = 8;

fn seed_from_hex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn print_mode(o: &Outcome, base: f64) {
    let t = &o.tally;
    let txs = o.stats["transactions"].as_u64().unwrap_or(0);
    let conflicts = o.stats["conflicts"].as_u64().unwrap_or(0)
        + o.stats["single_write_conflicts"].as_u64().unwrap_or(0);
    let pct = if txs > 0 {
        100.0 * conflicts as f64 / txs as f64
    } else {
        0.0
    };
    println!(
        "| {} | {:.1} | {:.2} | {} | {} | {} | {} ({:.2}%) |",
        o.mode.name(),
        o.per_sec(),
        if base > 0.0 { o.per_sec() / base } else { 0.0 },
        t.unavailable.load(Ordering::Relaxed),
        t.other.load(Ordering::Relaxed),
        txs,
        conflicts,
        pct
    );
}

fn print_hottest(o: &Outcome) {
    let hot: Vec<String> = o.stats["hottest"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    let item = h["item"].as_str().unwrap_or_default();
                    let item = item.split_once('|').map_or(item, |(_, k)| k);
                    format!(
                        "{} {:.0}%",
                        item,
                        100.0 * h["share"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    println!("- {}: {}", o.mode.name(), hot.join(", "));
    let contested: Vec<String> = o.stats["most_conflicted"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    let item = h["item"].as_str().unwrap_or_default();
                    let item = item.split_once('|').map_or(item, |(_, k)| k);
                    format!("{} x{}", item, h["conflicts"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default();
    if !contested.is_empty() {
        println!("  conflicts on: {}", contested.join(", "));
    }
    if let Ok(Some(first)) = o.tally.first_other.lock().map(|f| f.clone()) {
        println!("  first unexpected answer: {first}");
    }
}

/// The events modes, per hold: independent trees, then one top referrer for all.
async fn events_tables(api: &Api, tag: &str, secs: f64, holds: &[u64]) -> Result<(), BoxError> {
    eprintln!("warming up the events functions");
    events::run(api, "warm", &format!("{tag}warmev"), CLIENTS, 3.0, false).await?;
    for hold in holds {
        api.proxy(&format!("hold?ms={hold}")).await?;
        println!("\n### Events, hold {hold} ms, {CLIENTS} clients, {secs} s per mode\n");
        println!("| mode | events/s | ratio to independent | 503s | other errors | transactions | conflicts | 202 to settled p50 | p99 |");
        println!("|---|---|---|---|---|---|---|---|---|");
        let mut base = 0.0;
        for (name, shared) in [("independent", false), ("one top referrer", true)] {
            let run = format!("{tag}h{hold}{}", if shared { "one" } else { "ind" });
            let o = events::run(api, name, &run, CLIENTS, secs, shared).await?;
            if !shared {
                base = o.per_sec;
            }
            let txs = o.stats["transactions"].as_u64().unwrap_or(0);
            let conflicts = o.stats["conflicts"].as_u64().unwrap_or(0);
            println!(
                "| {} | {:.1} | {:.2} | {} | {} | {} | {} ({:.1}%) | {:.2} s | {:.2} s |",
                o.name,
                o.per_sec,
                if base > 0.0 { o.per_sec / base } else { 0.0 },
                o.tally.unavailable.load(Ordering::Relaxed),
                o.tally.other.load(Ordering::Relaxed),
                txs,
                conflicts,
                if txs > 0 {
                    100.0 * conflicts as f64 / txs as f64
                } else {
                    0.0
                },
                o.lag(0.5),
                o.lag(0.99),
            );
            let first = o.tally.first_other.lock().map(|f| f.clone()).ok().flatten();
            if let Some(first) = first {
                println!("  first unexpected answer: {first}");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [api, proxy, key, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: bench-scale <API base> <proxy base> <network key> [seconds] [holds]".into(),
        );
    };
    let secs: f64 = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(10.0);
    let holds: Vec<u64> = rest
        .get(1)
        .map_or("20,50", String::as_str)
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let seed = std::env::var("BENCH_ADMIN_SEED")
        .ok()
        .and_then(|s| seed_from_hex(&s))
        .ok_or("BENCH_ADMIN_SEED: 64 hex")?;
    let admin = k256::ecdsa::SigningKey::from_slice(&seed)?;
    let api = Api::new(api, proxy, key);
    let tag = format!("{:x}", shared::clock::now().ns % 0xffff_ffff);

    if rest.get(2).map(String::as_str) == Some("events") {
        return events_tables(&api, &tag, secs, &holds).await;
    }

    // cargo lambda watch starts a function's instances on demand: start 8 of each first.
    eprintln!("warming up every function the modes call");
    for mode in MODES {
        modes::run(
            &api,
            mode,
            &format!("{tag}warm{}", mode.name().replace(' ', "")),
            CLIENTS,
            3.0,
            &admin,
        )
        .await?;
    }

    for hold in holds {
        api.proxy(&format!("hold?ms={hold}")).await?;
        println!("\n### Hold {hold} ms, {CLIENTS} clients, {secs} s per mode\n");
        println!("| mode | signups/s | ratio to programs | 503s | other errors | transactions | conflicts |");
        println!("|---|---|---|---|---|---|---|");
        let mut outcomes = Vec::new();
        let mut base = 0.0;
        for mode in MODES {
            let run = format!("{tag}h{hold}{}", mode.name().replace(' ', ""));
            let o = modes::run(&api, mode, &run, CLIENTS, secs, &admin).await?;
            if mode == Mode::Programs {
                base = o.per_sec();
            }
            print_mode(&o, base);
            outcomes.push(o);
        }
        println!("\nHottest items (share of the mode's transactions that included each):\n");
        for o in &outcomes {
            print_hottest(o);
        }
        let (ok, total, s) = modes::fill_cap(&api, &format!("{tag}h{hold}"), CLIENTS, 500).await?;
        println!(
            "\nFilling a cap of 500 with {CLIENTS} clients: {ok} signups accepted, total_referrals {total}, in {s:.1} s ({}).",
            if ok == 500 && total == 500 { "exact" } else { "NOT EXACT" }
        );
    }
    Ok(())
}
