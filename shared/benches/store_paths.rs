//! Latency of the hot store paths on DynamoDB Local, as ratios to one BatchGetItem, with the
//! DynamoDB calls each makes and the process's peak memory. Run with `make bench`.

use std::time::{Duration, Instant};

use shared::domain::{
    CodeConfig, Level, NetworkId, ProgramId, ProgramPatch, ReferralCode, UsdCents, UserId,
};
use shared::store::graph::downline::Levels;
use shared::store::graph::link::{LinkOutcome, LinkRequest};
use shared::store::metrics::CallCounter;
use shared::{clock, AppState, Config};

const N: usize = 150;

fn user(prefix: &str, i: usize) -> UserId {
    UserId::from_stored(format!("{prefix}{i}@bench.io").as_str()).expect("user")
}

struct Sample {
    name: &'static str,
    times: Vec<Duration>,
    calls: usize,
}

impl Sample {
    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() / 2]
    }
    fn p95(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() * 95 / 100]
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() {
    let calls = CallCounter::default();
    let conf = shared::sdk_config()
        .await
        .to_builder()
        .interceptor(calls.clone())
        .build();
    let config = Config::from_lookup(|k| (k == "TABLE_NAME").then(|| "refnet-bench".to_owned()))
        .expect("config");
    let state = AppState::new(config, aws_sdk_dynamodb::Client::from_conf(conf));
    let store = &state.store;
    store.ensure_table().await.expect("table");
    let net = NetworkId::try_from(format!("bench-{}", clock::now().ns).as_str()).expect("net");
    let prog = ProgramId::try_from("p").expect("prog");
    store
        .upsert_program(&net, &prog, &ProgramPatch::default(), &clock::now().rfc3339)
        .await
        .expect("program");
    // a chain of 10 under which depth-10 links go
    for i in 1..10 {
        let (u, r) = (user("chain", i), user("chain", i - 1));
        store
            .link(&LinkRequest::new(&net, &prog, &u, &r), None)
            .await
            .expect("chain");
    }
    let owner = user("owner", 0);
    let code = match store
        .create_code(
            &net,
            &prog,
            &owner,
            CodeConfig {
                referrer_amount_usd_cents: UsdCents::of("bench", 1).expect("cents"),
                referee_amount_usd_cents: UsdCents::of("bench", 1).expect("cents"),
                max_referrals: 0,
                requires_jumio: false,
            },
        )
        .await
        .expect("code")
    {
        shared::store::codes::CreateOutcome::Created(c) => c.code,
        _ => panic!("no code"),
    };

    // DynamoDB Local runs on the JVM: warm it up before anything is timed.
    let warm = user("warm", 0);
    for i in 0..200 {
        let u = user("warm-", i);
        store
            .link(&LinkRequest::new(&net, &prog, &u, &warm), None)
            .await
            .expect("warm");
        store
            .code_with_bonus(&net, &code, None)
            .await
            .expect("warm");
    }

    let mut samples = Vec::new();
    macro_rules! measure {
        ($name:expr, $i:ident, $body:expr) => {{
            let mut times = Vec::with_capacity(N);
            calls.reset();
            for $i in 0..N {
                let t = Instant::now();
                $body;
                times.push(t.elapsed());
            }
            samples.push(Sample {
                name: $name,
                times,
                calls: calls.count() / N,
            });
        }};
    }
    let hash: ReferralCode = code.clone();
    measure!(
        "code and country bonus (get-referral-info-for-referral-hash)",
        _i,
        {
            store
                .code_with_bonus(&net, &hash, None)
                .await
                .expect("read");
        }
    );
    let root = user("root", 0);
    measure!("add connection, depth 1", i, {
        let u = user("d1-", i);
        let out = store
            .link(&LinkRequest::new(&net, &prog, &u, &root), None)
            .await
            .expect("link");
        assert!(matches!(out, LinkOutcome::Linked { created: true, .. }));
    });
    let tail = user("chain", 9);
    measure!("add connection, depth 10", i, {
        let u = user("d10-", i);
        let out = store
            .link(&LinkRequest::new(&net, &prog, &u, &tail), None)
            .await
            .expect("link");
        assert!(matches!(out, LinkOutcome::Linked { created: true, .. }));
    });
    let probe = shared::store::api_keys::KeyProbe {
        key: shared::store::keys::api_key("none"),
    };
    measure!("user connections page of 50", _i, {
        store
            .member_head(&net, &prog, &root, &probe)
            .await
            .expect("head");
        store
            .downline_page(&net, &prog, &root, Levels::UpTo(Level::MAX), 51, None)
            .await
            .expect("page");
    });
    measure!("add connection through a code", i, {
        let u = user("viacode", i);
        let req = LinkRequest {
            code: Some(&code),
            ..LinkRequest::new(&net, &prog, &u, &owner)
        };
        store.link(&req, None).await.expect("link");
    });
    for i in 0..N {
        store
            .jumio_begin(&net, &user("jumio", i), &code)
            .await
            .expect("begin");
    }
    measure!("jumio-callback (credit, counted, with connection)", i, {
        let out = store
            .jumio_credit(&net, &user("jumio", i), None)
            .await
            .expect("credit");
        assert!(out.credited && out.counted);
    });

    let base = samples[0].median().as_secs_f64();
    println!("{N} runs each on DynamoDB Local; ratios of medians to the first row");
    println!("{:<58} {:>6} {:>6} {:>6}", "path", "calls", "p50", "p95");
    for s in &samples {
        println!(
            "{:<58} {:>6} {:>5.2}x {:>5.2}x",
            s.name,
            s.calls,
            s.median().as_secs_f64() / base,
            s.p95().as_secs_f64() / base
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!(
            "peak resident memory of this process: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
