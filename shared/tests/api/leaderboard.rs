//! The referral leaderboard: kept from the stream, ranked with ties, by month, one read a page.

use futures::future::join_all;
use serde_json::{json, Value};
use shared::domain::shards::member_shard;
use shared::domain::UserId;

use crate::harness::App;

async fn board(app: &App, prog: &str, query: &str) -> Value {
    let (s, v) = app
        .get(&format!(
            "/networks/{{net}}/connections/{prog}/leaderboard{query}"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// (rank, user, value) of a page.
fn rows(v: &Value) -> Vec<(u64, String, i64)> {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].as_u64().unwrap(),
                e["user"].as_str().unwrap().to_owned(),
                e["value"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(rank: u64, user: &str, value: i64) -> (u64, String, i64) {
    (rank, user.to_owned(), value)
}

/// A stream record of a level-1 edge (`ancestor` <- `member`, connected at `ns`) that came
/// (INSERT) or went (REMOVE), as the aggregator's mapping delivers it.
fn edge_record(app: &App, event: &str, ancestor: &str, member: &str, ns: u64) -> Value {
    let s = member_shard(&UserId::from_stored(member).unwrap());
    json!({
        "eventID": format!("{event}-{ancestor}-{member}"),
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": (ns / 1_000_000_000) as f64,
            "Keys": {
                "PK": {"S": format!("DOWN#{}#lb#{ancestor}#{s}", app.net)},
                "SK": {"S": format!("01#{ns:020}#{member}")}
            },
            "SequenceNumber": "1",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
    })
}

/// 2026-11-30T23:59:59.999Z and 2026-12-01T00:00:00Z, in ns.
const NOV_LAST_NS: u64 = 1_796_083_199_999_000_000;
const DEC_FIRST_NS: u64 = 1_796_083_200_000_000_000;

#[tokio::test]
async fn ranks_share_ties_and_settle_after_a_burst() {
    let app = App::new().await;
    app.put("/networks/{net}/connections/lb", json!({})).await;
    for (referrer, n) in [("a@x.io", 3), ("b@x.io", 3), ("c@x.io", 1), ("d@x.io", 2)] {
        for i in 0..n {
            let referee = format!("{}{i}@y.io", &referrer[..1]);
            let (s, v) = app.link("lb", &referee, referrer).await;
            assert_eq!(s, 201, "{v}");
        }
    }
    // a burst of 30 under one referrer
    let burst = (0..30).map(|i| {
        let app = &app;
        async move { app.link("lb", &format!("e{i}@y.io"), "e@x.io").await }
    });
    for (s, v) in join_all(burst).await {
        assert_eq!(s, 201, "{v}");
    }
    app.settle().await;
    let want = vec![
        row(1, "e@x.io", 30),
        row(2, "a@x.io", 3),
        row(2, "b@x.io", 3),
        row(4, "d@x.io", 2),
        row(5, "c@x.io", 1),
    ];
    let all = board(&app, "lb", "").await;
    assert_eq!(rows(&all), want, "{all}");
    assert_eq!(
        (all["period"].as_str(), all["by"].as_str()),
        (Some("all"), Some("referrals"))
    );
    assert!(
        all["as_of"].is_string() && all["next_cursor"].is_null(),
        "{all}"
    );
    // this month holds the same; another month nothing
    let month = shared::domain::leaderboard::Period::month_of(shared::clock::now().ns);
    let this = board(&app, "lb", &format!("?period={month}")).await;
    assert_eq!(rows(&this), want);
    assert_eq!(rows(&board(&app, "lb", "?period=1999-01").await), vec![]);
    // pages: 2 at a time, the ranks carried across
    let p1 = board(&app, "lb", "?limit=2").await;
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = board(&app, "lb", &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(rows(&p1), want[..2]);
    assert_eq!(rows(&p2), want[2..4]);
    app.check().await;
}

/// Direct referees follow the graph, as the downline counts do: a move takes one from the
/// old referrer's value and gives it to the new one's.
#[tokio::test]
async fn a_move_moves_the_referee_between_values() {
    let app = App::new().await;
    app.put("/networks/{net}/connections/lb", json!({})).await;
    for u in ["x@y.io", "y@y.io"] {
        assert_eq!(app.link("lb", u, "a@x.io").await.0, 201);
    }
    assert_eq!(app.link("lb", "z@y.io", "b@x.io").await.0, 201);
    app.settle().await;
    assert_eq!(
        rows(&board(&app, "lb", "").await),
        vec![row(1, "a@x.io", 2), row(2, "b@x.io", 1)]
    );
    let (s, v) = app.set_referrer("lb", "x@y.io", "b@x.io").await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.remove_referrer("lb", "y@y.io").await;
    assert!(s < 300, "{v}");
    app.settle().await;
    assert_eq!(
        rows(&board(&app, "lb", "").await),
        vec![row(1, "b@x.io", 2)]
    );
    app.check().await;
}

/// A referee counts in the month, in UTC, of its connection.
#[tokio::test]
async fn a_month_boundary_splits_the_months_not_the_whole() {
    let app = App::new().await;
    app.put("/networks/{net}/connections/lb", json!({})).await;
    let records = vec![
        edge_record(&app, "INSERT", "a@x.io", "m1@y.io", NOV_LAST_NS),
        edge_record(&app, "INSERT", "a@x.io", "m2@y.io", NOV_LAST_NS),
        edge_record(&app, "INSERT", "b@x.io", "m3@y.io", DEC_FIRST_NS),
        edge_record(&app, "INSERT", "a@x.io", "m4@y.io", DEC_FIRST_NS),
    ];
    app.stream_to("aggregate-counts", records).await;
    // the counts' own records reach the boards' consumer
    app.settle().await;
    assert_eq!(
        rows(&board(&app, "lb", "?period=2026-11").await),
        vec![row(1, "a@x.io", 2)]
    );
    assert_eq!(
        rows(&board(&app, "lb", "?period=2026-12").await),
        vec![row(1, "a@x.io", 1), row(1, "b@x.io", 1)]
    );
    assert_eq!(
        rows(&board(&app, "lb", "?period=all").await),
        vec![row(1, "a@x.io", 3), row(2, "b@x.io", 1)]
    );
    // a November referee who goes leaves November's value, and December's as it was
    let gone = edge_record(&app, "REMOVE", "a@x.io", "m1@y.io", NOV_LAST_NS);
    app.stream_to("aggregate-counts", vec![gone.clone()]).await;
    // delivered twice, it takes one away once
    app.stream_to("aggregate-counts", vec![gone]).await;
    app.settle().await;
    assert_eq!(
        rows(&board(&app, "lb", "?period=2026-11").await),
        vec![row(1, "a@x.io", 1)]
    );
    assert_eq!(
        rows(&board(&app, "lb", "?period=2026-12").await),
        vec![row(1, "a@x.io", 1), row(1, "b@x.io", 1)]
    );
}

/// 5,000 referrers: the top 1,000 in pages of 250, each page one read.
#[tokio::test]
async fn the_top_thousand_of_five_thousand_referrers_in_pages() {
    let app = App::new().await;
    app.put("/networks/{net}/connections/lb", json!({})).await;
    let referrer = |i: usize| format!("r{i:04}@x.io");
    let mut records = Vec::new();
    for i in 0..5_000 {
        records.push(edge_record(
            &app,
            "INSERT",
            &referrer(i),
            &format!("m{i}@y.io"),
            DEC_FIRST_NS,
        ));
    }
    // every 7th has a second referee, every 49th a third
    for i in (0..5_000).step_by(7) {
        records.push(edge_record(
            &app,
            "INSERT",
            &referrer(i),
            &format!("n{i}@y.io"),
            DEC_FIRST_NS,
        ));
    }
    for i in (0..5_000).step_by(49) {
        records.push(edge_record(
            &app,
            "INSERT",
            &referrer(i),
            &format!("o{i}@y.io"),
            DEC_FIRST_NS,
        ));
    }
    for batch in records.chunks(100) {
        app.stream_to("aggregate-counts", batch.to_vec()).await;
    }
    app.settle().await;
    let mut got = Vec::new();
    let mut cursor = String::new();
    loop {
        let query = match cursor.as_str() {
            "" => "?limit=250".to_owned(),
            c => format!("?limit=250&cursor={c}"),
        };
        let page = app
            .trips("a leaderboard page", 1, async {
                let (s, v) = app
                    .get(&format!(
                        "/networks/{{net}}/connections/lb/leaderboard{query}"
                    ))
                    .await;
                (s, v)
            })
            .await;
        got.extend(rows(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(got.len(), 1_000);
    // 3s: every 49th (103 of them); 2s: the other 7ths (612), then 1s by user id
    let threes = (0..5_000).step_by(49).count();
    let twos = (0..5_000).step_by(7).count() - threes;
    assert_eq!(got[0], row(1, &referrer(0), 3));
    assert_eq!(got[threes - 1].2, 3);
    assert_eq!(got[threes], row(threes as u64 + 1, &referrer(7), 2));
    let first_one = threes + twos;
    assert_eq!(got[first_one], row(first_one as u64 + 1, &referrer(1), 1));
    assert_eq!(got[999].0, first_one as u64 + 1, "ties share the rank");
    // the ones, in user-id order
    let ones: Vec<&String> = got[first_one..].iter().map(|r| &r.1).collect();
    assert!(ones.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn bad_queries_get_400_and_an_unknown_program_404() {
    let app = App::new().await;
    app.put("/networks/{net}/connections/lb", json!({})).await;
    for (query, code) in [
        ("?period=2026-13", "invalid_period"),
        ("?period=26-01", "invalid_period"),
        ("?period=month", "invalid_period"),
        ("?by=clicks", "invalid_by"),
        ("?limit=0", "invalid_limit"),
        ("?limit=1001", "invalid_limit"),
        ("?cursor=abc", "invalid_cursor"),
    ] {
        let (s, v) = app
            .get(&format!(
                "/networks/{{net}}/connections/lb/leaderboard{query}"
            ))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }
    let (s, v) = app
        .get("/networks/{net}/connections/none/leaderboard")
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("program_not_found"))
    );
    let empty = board(&app, "lb", "").await;
    assert_eq!(empty["entries"], json!([]));
    assert!(empty["as_of"].is_null(), "{empty}");
    let (s, _) = app
        .call(
            "GET",
            "/networks/{net}/connections/lb/leaderboard",
            None,
            Some("wrong"),
        )
        .await;
    assert_eq!(s, 401);
}

/// The rewards leaderboard: approved and paid cents; held ones count once approved, a voided
/// one not at all.
#[tokio::test]
async fn rewards_rank_approved_and_paid_cents_and_follow_approve_and_void() {
    use crate::rewards::{event, rewards, rule};
    let app = App::new().await;
    for (u, r) in [
        ("b1@y.io", "a@x.io"),
        ("b2@y.io", "a@x.io"),
        ("d1@y.io", "c@x.io"),
    ] {
        assert_eq!(app.link("p", u, r).await.0, 201);
    }
    let level1 = |cents: u64| json!([{"level": 1, "amount_usd_cents": cents}]);
    let (s, v) = rule(
        &app,
        "buy",
        json!({"event": "purchase", "levels": level1(100)}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let held = json!({"event": "subscribe", "levels": level1(500), "hold_days": 2});
    assert_eq!(rule(&app, "held", held).await.0, 201);
    for (id, user, name) in [
        ("e1", "b1@y.io", "purchase"),
        ("e2", "b2@y.io", "purchase"),
        ("e3", "d1@y.io", "purchase"),
        ("e4", "d1@y.io", "subscribe"),
    ] {
        assert_eq!(event(&app, id, user, name, 1).await.0, 202);
    }
    app.settle().await;
    let reward = |v: &Value, event_id: &str| {
        v["rewards"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["event_id"] == event_id))
            .and_then(|r| r["reward_id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        rows(&board(&app, "p", "?by=rewards").await),
        vec![row(1, "a@x.io", 200), row(2, "c@x.io", 100)]
    );
    // the held 500 counts once approved
    let held_id = reward(&rewards(&app, "c@x.io").await, "e4");
    let (s, v) = app
        .post(
            &format!("/networks/{{net}}/rewards/{held_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // a voided one no more
    let voided = reward(&rewards(&app, "a@x.io").await, "e1");
    let (s, v) = app
        .post(
            &format!("/networks/{{net}}/rewards/{voided}/void"),
            json!({"reason": "refund"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    app.settle().await;
    let want = vec![row(1, "c@x.io", 600), row(2, "a@x.io", 100)];
    let all = board(&app, "p", "?by=rewards").await;
    assert_eq!(rows(&all), want, "{all}");
    assert_eq!(all["by"], "rewards");
    let month = shared::domain::leaderboard::Period::month_of(shared::clock::now().ns);
    assert_eq!(
        rows(&board(&app, "p", &format!("?by=rewards&period={month}")).await),
        want
    );
    // the referrals board of the same program is its own
    assert_eq!(
        rows(&board(&app, "p", "").await),
        vec![row(1, "a@x.io", 2), row(2, "c@x.io", 1)]
    );
    app.check().await;
}
