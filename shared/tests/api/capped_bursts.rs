//! Bursts on a code capped at 10, through the conflict proxy at DynamoDB's transaction
//! latency: every answer is known (the code is full, the user is already credited), so none
//! may be a 5xx, and working that out takes no retries until the budget runs out.

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::deso::{begin, callback, create_hash, OWNER};
use crate::harness::{email, App, Setup};

const HOLD_MS: u64 = 20;
const ROUNDS: usize = 20;
const USERS: usize = 60;
const REPEATS: usize = 20;
const CAP: u64 = 10;

/// A network reached through the proxy, with production's retry budgets.
async fn app() -> App {
    App::with_program(Setup {
        hold_ms: Some(HOLD_MS),
        retry_budget_ms: Some(10_000),
        public_budget_ms: Some(2_000),
    })
    .await
}

/// Runs `n` requests built by `f`, `width` at a time; their answers in order.
async fn burst<F, Fut>(n: usize, width: usize, f: F) -> Vec<(u16, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    stream::iter((0..n).map(f))
        .buffered(width)
        .collect::<Vec<_>>()
        .await
}

/// The DeSo user of request `i`: the first `USERS` seeds, then repeats of the first ones.
fn seed(i: usize) -> u8 {
    0x40 + (i % USERS) as u8
}

fn transactions(app: &App) -> u64 {
    app.proxy_stats()["transactions"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credits_on_a_capped_code_never_answer_5xx() {
    for round in 0..ROUNDS {
        let app = app().await;
        let code = create_hash(&app, OWNER, 500, 100, CAP).await;
        for (s, v) in burst(USERS, 8, |i| begin(&app, seed(i), &code)).await {
            assert_eq!(s, 200, "round {round} begin: {v}");
        }
        let answers = burst(USERS + REPEATS, 30, |i| callback(&app, seed(i))).await;
        let mut credited = 0;
        let mut counted = 0;
        for (s, v) in &answers {
            assert_eq!(*s, 200, "round {round}: {v}");
            credited += usize::from(v["Credited"] == true);
            counted += usize::from(v["ReferralCounted"] == true);
        }
        assert_eq!(credited, USERS, "round {round}: each user credited once");
        assert_eq!(
            counted, CAP as usize,
            "round {round}: exactly the cap counted"
        );
        let (_, info) = app
            .deso(
                "get-referral-info-for-referral-hash",
                json!({"ReferralHash": code}),
            )
            .await;
        assert_eq!(info["ReferralInfoResponse"]["Info"]["TotalReferrals"], CAP);

        // Once full, a new process works it out in two transactions at most: the refused
        // referral and the credit without it.
        let late = 0x40 + USERS as u8;
        assert_eq!(begin(&app, late, &code).await.0, 200);
        let fresh = app.instance();
        let before = transactions(&fresh);
        let (s, v) = callback(&fresh, late).await;
        assert_eq!(
            (s, &v["Credited"], &v["ReferralCounted"]),
            (200, &json!(true), &json!(false)),
            "{v}"
        );
        let txs = transactions(&fresh) - before;
        assert!(
            txs <= 2,
            "round {round}: {txs} transactions for a full code"
        );
        if round == 0 {
            // and a process that knows it, in one
            let later = late + 1;
            assert_eq!(begin(&app, later, &code).await.0, 200);
            let before = transactions(&fresh);
            assert_eq!(callback(&fresh, later).await.0, 200);
            assert_eq!(transactions(&fresh) - before, 1);
            app.check().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signups_through_a_capped_code_never_answer_5xx() {
    for round in 0..ROUNDS {
        let app = app().await;
        let (s, v) = app
            .put(
                "/networks/{net}/connections/p",
                json!({"max_referrals_per_code": CAP}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (_, codes) = app
            .get("/networks/{net}/connections/p/users/owner@x.io/codes")
            .await;
        let code = codes["codes"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let answers = burst(USERS + REPEATS, 30, |i| {
            let (app, code) = (&app, code.clone());
            async move {
                app.post(
                    "/networks/{net}/user_status",
                    json!({"user": email("joiner", i % USERS), "status_change": "create_user", "referrer": code}),
                )
                .await
            }
        })
        .await;
        let mut connected = std::collections::BTreeSet::new();
        for (i, (s, v)) in answers.iter().enumerate() {
            match s {
                201 | 200 if !v["connection"].is_null() => {
                    connected.insert(i % USERS);
                }
                // a repeat of a user its first request connected, or created
                200 | 201 => {}
                409 => assert_eq!(v["error"]["code"], "code_unavailable", "{v}"),
                _ => panic!("round {round}: {s} {v}"),
            }
        }
        assert_eq!(
            connected.len(),
            CAP as usize,
            "round {round}: exactly the cap"
        );
        let (_, v) = app
            .get("/networks/{net}/connections/p/users/owner@x.io/codes")
            .await;
        assert_eq!(v["codes"][0]["total_referrals"], CAP);

        // a new process refuses a full code in two transactions at most
        let fresh = app.instance();
        let before = transactions(&fresh);
        let (s, v) = fresh
            .post(
                "/networks/{net}/user_status",
                json!({"user": "late@x.io", "status_change": "create_user", "referrer": code}),
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("code_unavailable")),
            "{v}"
        );
        let txs = transactions(&fresh) - before;
        assert!(
            txs <= 2,
            "round {round}: {txs} transactions for a full code"
        );
        if round == 0 {
            app.check().await;
        }
    }
}

/// A transaction of the user's own credit, held past the budget: what the cancellation
/// reasons tell is the answer, with no retries until the budget runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_credit_in_flight_answers_a_begin_and_a_repeat_at_once() {
    let app = App::with_program(Setup {
        hold_ms: Some(HOLD_MS),
        retry_budget_ms: Some(1_000),
        public_budget_ms: Some(1_000),
    })
    .await;
    let code = create_hash(&app, OWNER, 500, 100, CAP).await;
    let (first, second) = (0x30, 0x31);
    assert_eq!(begin(&app, first, &code).await.0, 200);
    app.set_hold(2_500);
    let (credit, (begun, repeat)) = tokio::join!(callback(&app, first), async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        tokio::join!(
            // the second user's begin is unrelated; the first user's repeat is not
            begin(&app, second, &code),
            callback(&app, first)
        )
    });
    app.set_hold(HOLD_MS);
    assert_eq!(credit.0, 200, "{}", credit.1);
    assert_eq!(credit.1["Credited"], true);
    assert_eq!(begun.0, 200, "{}", begun.1);
    assert_eq!(repeat.0, 200, "a repeat during the credit: {}", repeat.1);
    assert_eq!(repeat.1["Credited"], false, "{}", repeat.1);

    // a begin while the user's own credit commits is a begin after it
    let third = 0x32;
    app.set_hold(2_500);
    let (credit, late) = tokio::join!(callback(&app, third), async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        begin(&app, third, &code).await
    });
    app.set_hold(HOLD_MS);
    assert_eq!(credit.0, 200, "{}", credit.1);
    assert_eq!(late.0, 409, "a begin during the credit: {}", late.1);
    assert!(
        late.1["error"]
            .as_str()
            .is_some_and(|m| m.contains("already credited")),
        "{}",
        late.1
    );
    app.check().await;
}

/// Hash creations for different owners share no item: the program is read, not checked in
/// each transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hash_creations_share_no_item() {
    let app = app().await;
    let before = app.proxy_stats()["conflicts"].as_u64().unwrap_or(0);
    let codes =
        futures::future::join_all((0..16u8).map(|i| create_hash(&app, 0x50 + i, 500, 100, CAP)))
            .await;
    assert_eq!(codes.len(), 16);
    let stats = app.proxy_stats();
    assert_eq!(
        stats["conflicts"].as_u64().unwrap_or(0) - before,
        0,
        "{stats}"
    );
}
