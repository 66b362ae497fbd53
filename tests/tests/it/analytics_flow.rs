//! Analytics through the gateway and the consumer: a scripted day of traffic gives exact
//! counts and top lists; a viewer's views of a job count once in 30 minutes; distinct
//! counts hold at 10k sessions; redelivery counts once; rollups re-run the same; only a
//! company's members and admins read its figures.

use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
const CRAWLER: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

async fn post_as(s: &TestStack, path: &str, body: Value, token: Option<&str>, ua: &str) -> Reply {
    s.send_raw(
        "POST",
        path,
        body.to_string().into_bytes(),
        token,
        &[("content-type", "application/json"), ("user-agent", ua)],
    )
    .await
}

async fn get_as(s: &TestStack, path: &str, token: Option<&str>, ua: &str) -> Reply {
    s.send_raw("GET", path, Vec::new(), token, &[("user-agent", ua)]).await
}

async fn events(s: &TestStack, session: &str, token: Option<&str>, ua: &str, events: Value) -> Reply {
    let r = post_as(s, "/analytics/events", json!({"session_id": session, "events": events}), token, ua).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    r
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_day_gives_exact_counts_and_top_lists() {
    let s = TestStack::start().await;
    let (admin, owner, other) = (s.admin().await, s.employer().await, s.employer().await);
    let (ada, bob) = (s.seeker().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Analytics Co").await;
    let elsewhere = other.create_company("Elsewhere Co").await;
    let published = json!({"status": "published", "title": "Rust wrangler"});
    let (a, b) = (
        owner.post_job(&company, &category, published.clone()).await,
        owner.post_job(&company, &category, json!({"status": "published"})).await,
    );
    let c = other.post_job(&elsewhere, &category, json!({"status": "published"})).await;

    // Views, impressions and an apply click from two anonymous sessions. A viewer's views of
    // a job count once in 30 minutes: s1's three views of A are one, s2's two are one.
    let view = |job: &str| json!({"type": "job_view", "job_id": job});
    events(
        &s,
        "s1",
        None,
        BROWSER,
        json!([view(&a), view(&a), view(&a),
        {"type": "job_impression", "job_id": a}, {"type": "job_impression", "job_id": b}]),
    )
    .await;
    events(
        &s,
        "s2",
        None,
        BROWSER,
        json!([view(&a), view(&a), {"type": "apply_click", "job_id": a}]),
    )
    .await;
    events(&s, "s2", None, BROWSER, json!([{"type": "company_view", "company_id": company}])).await;
    // A crawler's views and an old event are not counted.
    let r = events(&s, "s3", None, CRAWLER, json!([view(&a), view(&a), view(&a), view(&a), view(&a)])).await;
    assert_eq!((r.body["accepted"].as_u64(), r.body["rejected"].as_u64()), (Some(0), Some(5)));
    let old = (chrono::Utc::now() - chrono::Duration::hours(30)).to_rfc3339();
    let r = events(
        &s,
        "s4",
        None,
        BROWSER,
        json!([{"type": "job_view", "job_id": a, "occurred_at": old}, view(&c)]),
    )
    .await;
    assert_eq!((r.body["accepted"].as_u64(), r.body["rejected"].as_u64()), (Some(1), Some(1)));
    // A signed-in view and applications.
    events(&s, "ada-phone-7f3a", Some(&ada.token), BROWSER, json!([view(&a)])).await;
    ada.apply(&a).await;
    bob.apply(&b).await;

    // Searches with and without results, and a click on a result. Waiting for the index
    // as a crawler keeps the waits out of the figures.
    let started = std::time::Instant::now();
    while get_as(&s, "/search/jobs?q=wrangler", None, CRAWLER).await.body["total"] != 1 {
        assert!(started.elapsed() < Duration::from_secs(20), "the job is not searchable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found = get_as(&s, "/search/jobs?q=Rust%20WRANGLER", None, BROWSER).await;
    assert_eq!(found.body["total"], 1, "{found:?}");
    let nothing = get_as(&s, "/search/jobs?q=zzznomatch", None, BROWSER).await;
    assert_eq!(nothing.body["total"], 0);
    get_as(&s, "/search/jobs?q=wrangler", None, CRAWLER).await;
    let search_id = found.body["search_id"].as_str().unwrap();
    let r = post_as(
        &s,
        "/search/clicks",
        json!({"search_id": search_id, "job_id": a, "position": 1}),
        None,
        BROWSER,
    )
    .await;
    assert_eq!((r.status, r.body["accepted"].as_u64()), (StatusCode::ACCEPTED, Some(1)), "{r:?}");

    // Job A, once the consumer has caught up.
    let path = format!("/analytics/jobs/{a}");
    let r = s
        .get_until(&path, Some(&owner.token), Duration::from_secs(20), |r| {
            r.body["totals"]["views"] == 3 && r.body["totals"]["applications"] == 1 && r.body["totals"]["search_clicks"] == 1
        })
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let t = &r.body["totals"];
    assert_eq!(
        (
            &t["views"],
            &t["unique_viewers"],
            &t["impressions"],
            &t["apply_clicks"],
            &t["applications"],
            &t["search_clicks"]
        ),
        (&json!(3), &json!(3), &json!(1), &json!(1), &json!(1), &json!(1)),
        "{r:?}"
    );
    assert_eq!(t["view_to_apply_rate"], 0.3333);
    let daily = r.body["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30, "every day of the default range, zeros included");
    assert_eq!(daily.last().unwrap()["date"], today());
    assert_eq!(daily.last().unwrap()["views"], 3);
    assert!(daily[..29].iter().all(|d| d["views"] == 0 && d["applications"] == 0));
    // Applications agree with the applications that exist.
    let listed = s.get(&format!("/jobs/{a}/applications"), Some(&owner.token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // Nothing analytics keeps names the user, the session, the address or the agent.
    let scan = aws_sdk_dynamodb::Client::new(s.sdk())
        .scan()
        .table_name(s.running.app.table())
        .send()
        .await
        .unwrap();
    let kept: Vec<String> = scan
        .items
        .unwrap_or_default()
        .iter()
        .filter(|i| i.get("PK").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("AN#")))
        .map(|i| format!("{i:?}"))
        .collect();
    assert!(kept.len() > 10, "{} analytics items", kept.len());
    for item in &kept {
        for secret in [ada.id.as_str(), "ada-phone-7f3a", "Firefox", "127.0.0.1"] {
            assert!(!item.contains(secret), "{secret} is kept: {item}");
        }
    }

    // The company: both jobs, its page views, its top jobs.
    let r = s.get(&format!("/analytics/companies/{company}"), Some(&owner.token)).await;
    let t = &r.body["totals"];
    assert_eq!(
        (&t["views"], &t["applications"], &t["impressions"], &t["company_views"]),
        (&json!(3), &json!(2), &json!(2), &json!(1)),
        "{r:?}"
    );
    assert_eq!(t["unique_viewers"], 3, "s1, s2 and ada");
    let top: Vec<(&str, u64, u64)> = r.body["top_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["job_id"].as_str().unwrap(),
                j["applications"].as_u64().unwrap(),
                j["views"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(top, [(a.as_str(), 1, 3), (b.as_str(), 1, 0)]);
    assert_eq!(r.body["top_jobs"][0]["title"], "Rust wrangler");

    // The platform before the rollup: figures now, no top lists yet.
    let admin_path = format!("/admin/analytics?from={}&to={}", today(), today());
    let r = s
        .get_until(&admin_path, Some(&admin.token), Duration::from_secs(20), |r| {
            r.body["totals"]["searches"] == 2
        })
        .await;
    let t = &r.body["totals"];
    assert_eq!(
        (
            &t["signups"],
            &t["jobs_posted"],
            &t["applications"],
            &t["searches"],
            &t["zero_result_searches"]
        ),
        (&json!({"seeker": 2, "employer": 2}), &json!(3), &json!(2), &json!(2), &json!(1)),
        "{r:?}"
    );
    assert!(t["active_users"].as_u64().unwrap() >= 4, "{r:?}");
    assert_eq!(r.body["rolled_up_through"], Value::Null);

    // The rollup (as the schedule or `make rollup` runs it), twice: the same figures.
    let day = chrono::Utc::now().date_naive();
    let first = analytics::rollup::range(s.running.app, day, day).await.unwrap();
    let again = analytics::rollup::range(s.running.app, day, day).await.unwrap();
    assert_eq!(first, again);
    let r = s.get(&admin_path, Some(&admin.token)).await;
    assert_eq!(r.body["rolled_up_through"], today());
    assert_eq!(
        r.body["top_searches"],
        json!([{"query": "rust wrangler", "searches": 1, "clicks": 1, "click_through_rate": 1.0},
            {"query": "zzznomatch", "searches": 1, "clicks": 0, "click_through_rate": 0.0}])
    );
    assert_eq!(r.body["top_zero_result_searches"], json!([{"query": "zzznomatch", "searches": 1}]));
    assert_eq!(
        r.body["top_categories"],
        json!([{"category": category, "applications": 2, "views": 4}])
    );
    assert_eq!(
        r.body["top_companies"],
        json!([{"company_id": company, "name": "Analytics Co", "applications": 2}])
    );
    assert_eq!(
        r.body["funnel"],
        json!({"impressions": 2, "views": 4, "apply_clicks": 1, "applications": 2})
    );
    // Weeks: today's ISO week, cut to the range.
    let r = s.get(&format!("{admin_path}&granularity=week"), Some(&admin.token)).await;
    assert_eq!(r.body["periods"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["periods"][0]["applications"], 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_members_and_admins_read_figures_and_bad_asks_are_4xx() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner, other, seeker) = (s.admin().await, s.employer().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Mine").await;
    let job = owner.post_job(&company, &category, json!({"status": "published"})).await;
    let job_path = format!("/analytics/jobs/{job}");
    let company_path = format!("/analytics/companies/{company}");
    for (who, token, job_status, admin_status) in [
        ("owner", Some(owner.token.as_str()), 200, 403),
        ("admin", Some(admin.token.as_str()), 200, 200),
        ("another employer", Some(other.token.as_str()), 404, 403),
        ("a seeker", Some(seeker.token.as_str()), 403, 403),
        ("anonymous", None, 401, 401),
    ] {
        for path in [&job_path, &company_path] {
            let r = s.get(path, token).await;
            assert_eq!(r.status.as_u16(), job_status, "{who}: {path} {r:?}");
        }
        let r = s.get("/admin/analytics", token).await;
        assert_eq!(r.status.as_u16(), admin_status, "{who}: /admin/analytics {r:?}");
    }
    let missing = s.get(&format!("/analytics/jobs/{}", ulid::Ulid::new()), Some(&owner.token)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    for query in [
        "from=2026-11-24&to=2026-11-23",
        "from=2025-11-01&to=2026-11-23",
        "from=yesterday",
        "to=2026-13-01",
    ] {
        let r = s.get(&format!("{job_path}?{query}"), Some(&owner.token)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {r:?}");
    }
    let r = s.get("/admin/analytics?granularity=hour", Some(&admin.token)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .get(&format!("{job_path}?from=2025-11-23&to=2026-11-23"), Some(&owner.token))
        .await;
    assert_eq!(r.body["daily"].as_array().map(Vec::len), Some(366), "366 days is the most");

    let fifty_one: Vec<Value> = (0..51).map(|_| json!({"type": "job_view", "job_id": job})).collect();
    for (what, body) in [
        ("no events", json!({"events": []})),
        ("51 events", json!({"events": fifty_one})),
        ("an unknown type", json!({"events": [{"type": "job_like", "job_id": job}]})),
        ("no job id", json!({"events": [{"type": "job_view"}]})),
        ("a bad job id", json!({"events": [{"type": "job_view", "job_id": "nope"}]})),
        ("no company id", json!({"events": [{"type": "company_view"}]})),
        (
            "a made-up search id",
            json!({"events": [{"type": "search_click", "job_id": job, "search_id": "x", "position": 1}]}),
        ),
        (
            "no position",
            json!({"events": [{"type": "search_click", "job_id": job, "search_id": format!("{}.0123456789abcdef", ulid::Ulid::new())}]}),
        ),
        (
            "a bad time",
            json!({"events": [{"type": "job_view", "job_id": job, "occurred_at": "yesterday"}]}),
        ),
        (
            "a bad session",
            json!({"session_id": "a b", "events": [{"type": "job_view", "job_id": job}]}),
        ),
        (
            "an unknown field",
            json!({"events": [{"type": "job_view", "job_id": job, "ip": "1.2.3.4"}]}),
        ),
    ] {
        let r = post_as(&s, "/analytics/events", body, None, BROWSER).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {r:?}");
        assert_error_body(&r);
    }
    let r = post_as(
        &s,
        "/search/clicks",
        json!({"search_id": "nope", "job_id": job, "position": 1}),
        None,
        BROWSER,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .send_raw(
            "POST",
            "/analytics/events",
            b"{not json".to_vec(),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// An SQS batch as Lambda hands it to the consumer.
fn batch(messages: &[(String, String)]) -> aws_lambda_events::event::sqs::SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"}))
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// `n` views of `job` by `visitor`, each past the window of the one before (so each counts).
fn views_message(job: &str, visitor: &str, n: usize) -> String {
    let apart = analytics::views::WINDOW_SECS + 1;
    let now = common::time::now_secs();
    let events: Vec<Value> = (0..n as i64)
        .map(|i| json!({"type": "job_view", "job_id": job, "at": now - i * apart}))
        .collect();
    json!({"kind": "client", "id": ulid::Ulid::new().to_string(), "visitor": visitor, "events": events}).to_string()
}

async fn job_totals(s: &TestStack, job: &str, token: &str) -> Value {
    s.get(&format!("/analytics/jobs/{job}"), Some(token)).await.body["totals"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_messages_count_once_and_ten_thousand_sessions_count_within_three_percent() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Busy").await;
    let (job, hot) = (
        owner.post_job(&company, &category, json!({"status": "published"})).await,
        owner.post_job(&company, &category, json!({"status": "published"})).await,
    );
    let app = s.running.app;

    // One message of 45 views (three units), delivered in a batch, again in the same batch
    // under another message id, and again later: counted once.
    let body = views_message(&job, "v1", 45);
    let r = analytics::consumer::handler(app, batch(&[("m1".into(), body.clone()), ("m1-again".into(), body.clone())])).await;
    assert!(r.batch_item_failures.is_empty());
    let r = analytics::consumer::handler(app, batch(&[("m1-later".into(), body)])).await;
    assert!(r.batch_item_failures.is_empty());
    let t = job_totals(&s, &job, &owner.token).await;
    assert_eq!((&t["views"], &t["unique_viewers"]), (&json!(45), &json!(1)), "{t}");
    // A message that is not one fails alone; the rest of its batch counts.
    let r = analytics::consumer::handler(
        app,
        batch(&[("bad".into(), "{".into()), ("ok".into(), views_message(&job, "v2", 1))]),
    )
    .await;
    let failed: Vec<&str> = r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["bad"]);
    assert_eq!(job_totals(&s, &job, &owner.token).await["views"], 46);

    // 10,000 distinct sessions, one view each, in batches of 100 as Lambda delivers them.
    let messages: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("h{i}"), views_message(&hot, &format!("visitor-{i:05}"), 1)))
        .collect();
    for chunk in messages.chunks(100) {
        let r = analytics::consumer::handler(app, batch(chunk)).await;
        assert!(r.batch_item_failures.is_empty());
    }
    let t = job_totals(&s, &hot, &owner.token).await;
    assert_eq!(t["views"], 10_000, "views are exact");
    let unique = t["unique_viewers"].as_f64().unwrap();
    assert!((unique - 10_000.0).abs() / 10_000.0 < 0.03, "unique viewers {unique}");
    s.shutdown().await;
}

/// `n` views of `job` by `visitor`, all at `at`.
fn views_at(job: &str, visitor: &str, n: usize, at: i64) -> String {
    let events: Vec<Value> = (0..n).map(|_| json!({"type": "job_view", "job_id": job, "at": at})).collect();
    json!({"kind": "client", "id": ulid::Ulid::new().to_string(), "visitor": visitor, "events": events}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_counts_once_per_job_in_thirty_minutes_even_from_concurrent_batches() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Viewed").await;
    let job = owner.post_job(&company, &category, json!({"status": "published"})).await;
    let app = s.running.app;
    let t0 = common::time::now_secs() - analytics::views::WINDOW_SECS - 100;
    let run = |messages: Vec<String>| async move {
        let numbered: Vec<(String, String)> = messages.into_iter().map(|m| (ulid::Ulid::new().to_string(), m)).collect();
        let r = analytics::consumer::handler(app, batch(&numbered)).await;
        assert!(r.batch_item_failures.is_empty());
    };
    // Fifty identical views, then fifty more in a later batch a minute on: one view.
    run(vec![views_at(&job, "v1", 50, t0)]).await;
    run(vec![views_at(&job, "v1", 50, t0 + 60)]).await;
    assert_eq!(job_totals(&s, &job, &owner.token).await["views"], 1);
    // Another viewer counts; the first one again past the window counts again.
    run(vec![
        views_at(&job, "v2", 1, t0 + 60),
        views_at(&job, "v1", 1, t0 + analytics::views::WINDOW_SECS + 1),
    ])
    .await;
    let t = job_totals(&s, &job, &owner.token).await;
    assert_eq!((&t["views"], &t["unique_viewers"]), (&json!(3), &json!(2)), "{t}");
    // Two batches at once with one new viewer's view each: the last-view item is written
    // on condition, so one of them counts it.
    let now = common::time::now_secs();
    tokio::join!(run(vec![views_at(&job, "v3", 1, now)]), run(vec![views_at(&job, "v3", 1, now)]));
    let t = job_totals(&s, &job, &owner.token).await;
    assert_eq!((&t["views"], &t["unique_viewers"]), (&json!(4), &json!(3)), "{t}");
    s.shutdown().await;
}
