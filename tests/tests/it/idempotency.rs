//! `Idempotency-Key` on every creating route: a retry of a request that succeeded gets the
//! stored response back, looked up before anything that depends on the current state, so
//! a change since (a closed job, a lost membership, a suspended job, an existing name)
//! does not turn a success into an error.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Sends `body` to `path` with `key` twice; the first must create.
async fn retried(s: &TestStack, token: Option<&str>, path: &str, body: Value, key: &str) -> (Reply, Reply) {
    let bytes = serde_json::to_vec(&body).unwrap();
    let headers = [("idempotency-key", key), ("content-type", "application/json")];
    let first = s.send_raw("POST", path, bytes.clone(), token, &headers).await;
    assert_eq!(first.status, StatusCode::CREATED, "{path}: {first:?}");
    let again = s.send_raw("POST", path, bytes, token, &headers).await;
    (first, again)
}

fn assert_replayed(first: &Reply, again: &Reply) {
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_creating_route_replays_a_success_before_checking_the_state() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let owner = s.employer().await;
    let company = owner.create_company("Acme").await;
    let category = admin.create_category().await;

    // POST /categories: the name is taken by the first request itself.
    let name = format!("Category {}", unique(""));
    let bytes = serde_json::to_vec(&json!({ "name": name })).unwrap();
    let headers = [("idempotency-key", "category-1"), ("content-type", "application/json")];
    let first = s.send_raw("POST", "/categories", bytes.clone(), Some(&admin.token), &headers).await;
    let again = s.send_raw("POST", "/categories", bytes, Some(&admin.token), &headers).await;
    assert_replayed(&first, &again);

    // POST /companies, POST /auth/register: the same.
    let (first, again) = retried(&s, Some(&owner.token), "/companies", json!({"name": "Beta"}), "company-1").await;
    assert_replayed(&first, &again);
    let email = format!("{}@example.com", unique("idem"));
    let register = json!({"email": email, "password": PASSWORD, "role": "seeker", "full_name": "Idem Potent"});
    let (first, again) = retried(&s, None, "/auth/register", register, "register-1").await;
    assert_replayed(&first, &again);

    let job = step_a_job_retried_after_its_poster_left_the_company(&s, &owner, &company, &category).await;
    step_a_report_retried_after_the_job_was_suspended(&s, &admin, &job).await;
    s.shutdown().await;
}

/// POST /jobs: a colleague posts, is removed from the company, and retries; its id.
async fn step_a_job_retried_after_its_poster_left_the_company(s: &TestStack, owner: &User<'_>, company: &str, category: &str) -> String {
    let colleague = s.employer().await;
    let members = format!("/companies/{company}/members");
    owner.add_member(company, &colleague).await;
    let body = serde_json::to_vec(&job_body(company, category, json!({}))).unwrap();
    let headers = [("idempotency-key", "job-1"), ("content-type", "application/json")];
    let first = s.send_raw("POST", "/jobs", body.clone(), Some(&colleague.token), &headers).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(
        owner.delete(&format!("{members}/{}", colleague.id)).await.status,
        StatusCode::NO_CONTENT
    );
    let again = s.send_raw("POST", "/jobs", body.clone(), Some(&colleague.token), &headers).await;
    assert_replayed(&first, &again);
    let fresh = s
        .send_raw(
            "POST",
            "/jobs",
            body,
            Some(&colleague.token),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::FORBIDDEN, "without the key the lost membership answers");
    id_of(&first)
}

/// POST /jobs/{id}/reports: the job is suspended after the report.
async fn step_a_report_retried_after_the_job_was_suspended(s: &TestStack, admin: &User<'_>, job: &str) {
    let seeker = s.seeker().await;
    let path = format!("/jobs/{job}/reports");
    let body = serde_json::to_vec(&json!({"reason": "spam"})).unwrap();
    let headers = [("idempotency-key", "report-1"), ("content-type", "application/json")];
    let first = s.send_raw("POST", &path, body.clone(), Some(&seeker.token), &headers).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let r = admin
        .patch(&format!("/admin/jobs/{job}"), json!({"status": "suspended", "reason": "spam"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let again = s.send_raw("POST", &path, body, Some(&seeker.token), &headers).await;
    assert_replayed(&first, &again);
}
