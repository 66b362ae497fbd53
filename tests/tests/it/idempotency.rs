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

/// Sends `body` to `path` with `key` as `token`'s user, raw.
async fn with_key(s: &TestStack, token: &str, path: &str, body: &Value, key: &str) -> Reply {
    let headers = [("idempotency-key", key), ("content-type", "application/json")];
    s.send_raw("POST", path, serde_json::to_vec(body).unwrap(), Some(token), &headers)
        .await
}

/// The creates that took no key before (interviews, invitations, devices, uploads, client
/// events): a retry replays the first reply, also after the state changed; the same key with
/// another body is 422 `idempotency_key_reused`; one thing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interviews_invitations_devices_uploads_and_events_replay_their_first_reply() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let owner = s.employer().await;
    let company = owner.create_company("Keyed Co").await;
    let category = admin.create_category().await;
    let job = owner.post_job(&company, &category, json!({})).await;
    let seeker = s.seeker().await;
    let application = seeker.apply(&job).await;
    for to in ["reviewed", "shortlisted"] {
        assert_eq!(owner.move_application(&application, to).await.status, StatusCode::OK);
    }

    // An interview, retried after the application was rejected: the first 201, one interview.
    let path = format!("/applications/{application}/interviews");
    let soon = common::time::rfc3339(common::time::now_secs() + 86_400);
    let body = json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"});
    let first = with_key(&s, &owner.token, &path, &body, "interview-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(owner.move_application(&application, "rejected").await.status, StatusCode::OK);
    let again = with_key(&s, &owner.token, &path, &body, "interview-1").await;
    assert_replayed(&first, &again);
    let other = json!({"scheduled_at": soon, "duration_minutes": 60, "kind": "phone"});
    let reused = with_key(&s, &owner.token, &path, &other, "interview-1").await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "{reused:?}");
    assert_eq!(reused.body["error"], "idempotency_key_reused");
    assert_eq!(owner.get(&path).await.body["items"].as_array().unwrap().len(), 1);

    // An invitation (202), twice with one key: one pending invitation.
    let invitee = s.employer().await;
    let members = format!("/companies/{company}/members");
    let invite = json!({"email": invitee.email});
    let first = with_key(&s, &owner.token, &members, &invite, "invite-1").await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{first:?}");
    let again = with_key(&s, &owner.token, &members, &invite, "invite-1").await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(invitee.get("/me/invitations").await.body["items"].as_array().unwrap().len(), 1);

    // A device, an avatar upload, a resume upload and a batch of client events.
    let device = json!({"platform": "android", "token": unique("push-token")});
    let (first, again) = (
        with_key(&s, &seeker.token, "/me/devices", &device, "device-1").await,
        with_key(&s, &seeker.token, "/me/devices", &device, "device-1").await,
    );
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_replayed(&first, &again);
    for (path, content_type) in [("/me/avatar", "image/png"), ("/me/resume", "application/pdf")] {
        let upload = json!({"content_type": content_type, "size_bytes": 1000});
        let first = with_key(&s, &seeker.token, path, &upload, &format!("{path}-1")).await;
        assert_eq!(first.status, StatusCode::CREATED, "{path}: {first:?}");
        let again = with_key(&s, &seeker.token, path, &upload, &format!("{path}-1")).await;
        assert_replayed(&first, &again);
        assert_eq!(again.body["upload_url"], first.body["upload_url"], "{path}: the same ticket");
    }
    let search = json!({"name": "Rust jobs", "query": {"q": "rust"}});
    let (first, again) = (
        with_key(&s, &seeker.token, "/me/saved-searches", &search, "search-1").await,
        with_key(&s, &seeker.token, "/me/saved-searches", &search, "search-1").await,
    );
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_replayed(&first, &again);
    assert_eq!(seeker.get("/me/saved-searches").await.body["items"].as_array().unwrap().len(), 1);
    let events = json!({"events": [{"type": "job_view", "job_id": job}], "session_id": unique("sess")});
    let first = with_key(&s, &seeker.token, "/analytics/events", &events, &unique("events")).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{first:?}");
    s.shutdown().await;
}

/// Every operation of the OpenAPI document that answers 201 declares `Idempotency-Key`, and
/// each has its replay test above (or in applications.rs, for applying): a new creating
/// route fails here until it has both.
#[test]
fn every_creating_operation_declares_the_key_and_has_a_replay_test() {
    const REPLAY_TESTED: &[&str] = &[
        "POST /applications/{id}/interviews",
        "POST /auth/register",
        "POST /categories",
        "POST /companies",
        "POST /companies/{id}/members",
        "POST /jobs",
        "POST /jobs/{id}/applications",
        "POST /jobs/{id}/reports",
        "POST /me/avatar",
        "POST /me/devices",
        "POST /me/resume",
        "POST /me/saved-searches",
        "POST /analytics/events",
    ];
    let doc: Value = serde_json::from_str(&devstack::openapi::to_json()).unwrap();
    let mut creating = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["responses"].get("201").is_none() {
                continue;
            }
            let route = format!("{} {path}", method.to_uppercase());
            let declared = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "header" && p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key")));
            assert!(declared, "{route} answers 201 but does not declare Idempotency-Key");
            assert!(
                REPLAY_TESTED.contains(&route.as_str()),
                "{route} answers 201 but has no replay test"
            );
            creating.push(route);
        }
    }
    assert!(creating.len() >= 11, "{creating:?}");
}
