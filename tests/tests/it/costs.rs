//! What a seeker's session costs in DynamoDB calls, route by route, counted by the SDK
//! interceptor of the stack's client (`App::dynamo_calls`), not estimated. Each count is
//! held to its budget (the rate limiter's one UpdateItem included), so a route that starts
//! making more calls fails here; `make bench` prints the table (docs/performance.md).

use std::collections::BTreeMap;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

fn diff(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeker_session_makes_the_dynamodb_calls_of_its_budget() {
    // No relay or consumers: every call counted is a request's.
    let s = TestStack::start_with(false, false).await;
    let (admin, owner) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Costs Co").await;
    let job = owner.post_job(&company, &category, json!({"status": "published"})).await;
    let app = s.running.app;
    let email = format!("{}@example.com", unique("costs"));
    let mut token = String::new();
    let mut refresh = String::new();
    let mut rows = Vec::new();
    // (route, budget of calls, request); a signed-in request's budget includes the session
    // gate's one BatchGetItem (common::session), which a container skips for a session it
    // found live in the last two seconds.
    let steps: Vec<(&str, u64)> = vec![
        ("POST /auth/register", 2),
        ("POST /auth/login", 5),
        ("GET /auth/me", 3),
        ("GET /jobs", 3),
        ("GET /jobs/{id}", 3),
        ("GET /companies/{id}", 3),
        ("GET /search/jobs", 2),
        ("POST /analytics/events", 2),
        ("PATCH /me/profile", 4),
        ("GET /me/profile", 3),
        ("POST /jobs/{id}/applications", 6),
        ("GET /me/applications", 3),
        ("GET /me/notifications", 3),
        ("GET /me/notifications/unread-count", 3),
        ("POST /auth/logout", 2),
    ];
    for (route, budget) in steps {
        let before = app.dynamo_calls();
        let t = (!token.is_empty()).then_some(token.as_str());
        let r = match route {
            "POST /auth/register" => {
                s.post(
                    "/auth/register",
                    json!({"email": email, "password": PASSWORD, "full_name": "Cost Seeker", "role": "seeker"}),
                    None,
                )
                .await
            }
            "POST /auth/login" => s.login(&email, PASSWORD).await,
            "GET /auth/me" => s.get("/auth/me", t).await,
            "GET /jobs" => s.get("/jobs", t).await,
            "GET /jobs/{id}" => s.get(&format!("/jobs/{job}"), t).await,
            "GET /companies/{id}" => s.get(&format!("/companies/{company}"), t).await,
            "GET /search/jobs" => s.get("/search/jobs?q=engineer", t).await,
            "POST /analytics/events" => {
                s.post("/analytics/events", json!({"events": [{"type": "job_view", "job_id": job}]}), t)
                    .await
            }
            "PATCH /me/profile" => s.send("PATCH", "/me/profile", Some(json!({"headline": "Engineer"})), t).await,
            "GET /me/profile" => s.get("/me/profile", t).await,
            "POST /jobs/{id}/applications" => s.post(&format!("/jobs/{job}/applications"), json!({}), t).await,
            "GET /me/applications" => s.get("/me/applications", t).await,
            "GET /me/notifications" => s.get("/me/notifications", t).await,
            "GET /me/notifications/unread-count" => s.get("/me/notifications/unread-count", t).await,
            "POST /auth/logout" => s.post("/auth/logout", json!({"refresh_token": refresh}), t).await,
            other => panic!("no request for {other}"),
        };
        assert!(r.status.is_success(), "{route}: {r:?}");
        if route == "POST /auth/login" {
            token = token_of(&r.body);
            refresh = r.body["refresh_token"].as_str().unwrap_or_default().to_string();
        }
        let calls = diff(&before, &app.dynamo_calls());
        let total: u64 = calls.values().sum();
        rows.push(format!(
            "| {route} | {total} | {} |",
            calls.iter().map(|(op, n)| format!("{op} {n}")).collect::<Vec<_>>().join(", ")
        ));
        assert!(
            total <= budget,
            "{route} made {total} DynamoDB calls, its budget is {budget}: {calls:?}"
        );
    }
    println!(
        "| route (a seeker's session, in order) | DynamoDB calls | by operation |\n|---|---:|---|\n{}",
        rows.join("\n")
    );
    assert_eq!(owner.get("/auth/me").await.status, StatusCode::OK);
    s.shutdown().await;
}
