//! Saved searches and job alerts: the routes, instant alerts sent once, digests by
//! schedule, the one-click unsubscribe link, export and erasure.

use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

// Two hops through the events (alerts, then notifications), under the whole suite's load.
const SOON: Duration = Duration::from_secs(25);

async fn save(seeker: &User<'_>, query: Value, frequency: &str) -> String {
    let r = seeker
        .post(
            "/me/saved-searches",
            json!({"name": "My search", "query": query, "frequency": frequency}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["frequency"], frequency);
    r.body["id"].as_str().unwrap().to_string()
}

/// Alert emails to `to` (their subjects name the saved search).
async fn alerts_to(to: &str) -> Vec<Value> {
    emails_to(to)
        .await
        .into_iter()
        .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("My search")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_searches_are_validated_limited_listed_and_deleted() {
    let s = TestStack::start_with(true, false).await;
    let seeker = s.seeker().await;
    let r = seeker
        .post(
            "/me/saved-searches",
            json!({"name": "x", "query": {"workplace": "moon", "lat": 3}, "frequency": "daily"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_query")),
        "{r:?}"
    );
    assert!(
        r.body["details"]["query.workplace"].is_array() && r.body["details"]["query.lon"].is_array(),
        "{r:?}"
    );
    assert_error_body(&r);
    for bad in [
        json!({"name": "x", "query": {"colour": "blue"}}),
        json!({"name": "", "query": {}}),
        json!({"name": "x", "query": {"q": {"nested": true}}}),
        json!({"name": "x", "query": {}, "frequency": "hourly"}),
    ] {
        let r = seeker.post("/me/saved-searches", bad.clone()).await;
        assert!(r.status.is_client_error(), "{bad}: {r:?}");
    }
    let first = save(
        &seeker,
        json!({"q": "rust", "salary_min": 50000, "currency": "EUR", "category": ["a", "b"]}),
        "instant",
    )
    .await;
    for _ in 1..25 {
        save(&seeker, json!({}), "off").await;
    }
    let r = seeker
        .post("/me/saved-searches", json!({"name": "one too many", "query": {}}))
        .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_saved_searches"))
    );
    let r = seeker.get("/me/saved-searches?limit=100").await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 25);
    assert_eq!(items[24]["id"], first.as_str(), "newest first");
    assert_eq!(
        items[24]["query"],
        json!({"q": "rust", "salary_min": 50000, "currency": "EUR", "category": ["a", "b"]})
    );
    assert!(items[24].get("user_id").is_none());
    let r = seeker.get("/me/saved-searches?limit=10").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 10);
    assert!(r.body["next_cursor"].is_string());
    assert_eq!(
        seeker.delete(&format!("/me/saved-searches/{first}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        seeker.delete(&format!("/me/saved-searches/{first}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Stored with fractional numbers kept to six decimals: 1e-300 is a latitude of 0 to the
    // search, and below what DynamoDB stores (it was a 500).
    let query = json!({"q": "back under the limit", "lat": 1e-300, "lon": 13.40495441, "radius_km": 25});
    save(&seeker, query, "weekly").await;
    let stored = &seeker.get("/me/saved-searches").await.body["items"][0]["query"];
    assert_eq!(
        (stored["lat"].as_f64(), stored["lon"].as_f64()),
        (Some(0.0), Some(13.404954)),
        "{stored}"
    );
    assert_eq!(stored["q"], "back under the limit");
    let other = s.seeker().await;
    assert_eq!(other.get("/me/saved-searches").await.body["items"], json!([]));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instant_alert_goes_out_once_and_its_link_unsubscribes() {
    let s = TestStack::start().await;
    let app = s.running.app;
    let (admin, employer, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Quantum Leap").await;
    // Published before the search was saved: never alerted, even when it changes later.
    let before = employer
        .post_job(&company, &category, json!({"title": "Quantum physicist", "status": "published"}))
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let saved = save(&seeker, json!({"q": "quantum", "workplace": "remote"}), "instant").await;
    // Jobs are matched against the saved searches in the index (percolation): one saved a
    // moment before a job is published may be missed, so the test waits for it there.
    assert!(s.wait_indexed("saved-searches", &saved, true, SOON).await, "saved search indexed");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    employer
        .patch(&format!("/jobs/{before}"), json!({"title": "Quantum physicist (senior)"}))
        .await;
    let on_site = employer
        .post_job(
            &company,
            &category,
            json!({"title": "Quantum lab tech", "status": "published", "workplace": "on_site"}),
        )
        .await;
    let job = employer
        .post_job(
            &company,
            &category,
            json!({"title": "Quantum software engineer", "status": "published"}),
        )
        .await;

    let mail = wait_for_email(&seeker.email, "Quantum software engineer", SOON).await;
    let body = mail["body"].as_str().unwrap().to_string();
    assert!(body.contains("Quantum Leap") && body.contains(&job), "{body}");
    // Redelivery and a retry of the matcher send nothing more.
    search::alerts::alert_for(app, &job).await.unwrap();
    search::alerts::alert_for(app, &before).await.unwrap();
    search::alerts::alert_for(app, &on_site).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = alerts_to(&seeker.email).await;
    assert_eq!(sent.len(), 1, "one alert: {sent:?}");

    // The link turns the alerts off without a login; an altered one is refused.
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/unsubscribe?token="))
        .expect("a link")
        .to_string();
    let token = link.split("token=").nth(1).unwrap();
    let r = s.get(&format!("/unsubscribe?token={token}x"), None).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token"))
    );
    let r = s.post(&format!("/unsubscribe?token={token}"), json!({}), None).await;
    assert_eq!((r.status, r.body["frequency"].as_str()), (StatusCode::OK, Some("off")), "{r:?}");
    assert_eq!(seeker.get("/me/saved-searches").await.body["items"][0]["frequency"], "off");
    assert_eq!(
        s.get(&format!("/unsubscribe?token={token}"), None).await.status,
        StatusCode::OK,
        "idempotent"
    );
    let later = employer
        .post_job(
            &company,
            &category,
            json!({"title": "Quantum data engineer", "status": "published"}),
        )
        .await;
    s.get_until("/search/jobs?q=quantum%20data", None, SOON, |r| hit_ids(r).contains(&later))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(search::alerts::alert_for(app, &later).await.unwrap(), 0);
    assert_eq!(alerts_to(&seeker.email).await.len(), 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_go_out_by_schedule_once() {
    let s = TestStack::start().await;
    let app = s.running.app;
    let (admin, employer, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Digestive Ltd").await;
    save(&seeker, json!({"category": category}), "daily").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let jobs = [
        employer
            .post_job(&company, &category, json!({"title": "Morning baker", "status": "published"}))
            .await,
        employer
            .post_job(&company, &category, json!({"title": "Evening baker", "status": "published"}))
            .await,
    ];
    for job in &jobs {
        s.get_until(&format!("/search/jobs?company_id={company}"), None, SOON, |r| {
            hit_ids(r).contains(job)
        })
        .await;
    }
    // The matcher queues both for the digest and sends nothing now.
    for job in &jobs {
        search::alerts::alert_for(app, job).await.unwrap();
    }
    assert_eq!(
        search::digest::send(app, chrono::Utc::now()).await.unwrap(),
        0,
        "not due before 08:00"
    );
    assert!(alerts_to(&seeker.email).await.is_empty());

    let tomorrow = chrono::Utc::now() + chrono::Duration::days(2);
    assert_eq!(search::digest::send(app, tomorrow).await.unwrap(), 1);
    let mail = wait_for_email(&seeker.email, "2 new jobs", SOON).await;
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains("Morning baker") && body.contains("Evening baker") && body.contains("/unsubscribe?token="),
        "{body}"
    );
    assert_eq!(search::digest::send(app, tomorrow).await.unwrap(), 0, "sent once");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_includes_saved_searches_and_erasure_removes_them() {
    let s = TestStack::start().await;
    let seeker = s.seeker().await;
    let id = save(&seeker, json!({"q": "gardener"}), "weekly").await;
    let r = seeker.get("/me/export").await;
    assert_eq!(r.body["saved_searches"][0]["id"], id.as_str(), "{r:?}");
    assert!(
        s.wait_indexed("saved-searches", &id, true, SOON).await,
        "alerts on: in the saved-searches index"
    );
    assert_eq!(seeker.delete("/me").await.status, StatusCode::NO_CONTENT);
    assert!(s.wait_indexed("saved-searches", &id, false, SOON).await, "erased with the account");
    let left = search::saved::all_of(s.running.app, &seeker.id).await.unwrap();
    assert!(left.is_empty());
    s.shutdown().await;
}
