//! Reports and moderation through the local gateway: seekers report jobs, admins decide,
//! everything is audited.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Seekers report a job (once each, with a reason); admins see the queue, suspend the job
/// (it leaves lists, counts and public reads; its company sees why and cannot edit it),
/// dismiss another job's reports, restore the first; every decision is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_suspend_reported_jobs_and_everything_is_audited() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let owner = s.employer().await;
    let company = owner.create_company("Acme").await;
    let eng = admin.create_category().await;
    let job = owner.post_job(&company, &eng, json!({})).await;
    let fine = owner.post_job(&company, &eng, json!({"title": "Fine job"})).await;
    let draft = owner.post_job(&company, &eng, json!({"status": "draft"})).await;
    let (a, b) = (s.seeker().await, s.seeker().await);

    step_seekers_report(&a, &b, &job, &fine, &draft).await;
    step_the_queue_counts_reasons(&admin, &a, &job).await;
    step_suspension_hides_the_job(&s, &admin, &owner, &eng, &job, &fine).await;
    step_dismissing_empties_the_queue(&admin, &fine).await;
    step_restoring_brings_it_back(&s, &admin, &eng, &job).await;
    step_every_decision_is_audited(&admin, &job, &fine).await;
    s.shutdown().await;
}

async fn report(who: &User<'_>, job: &str, body: Value) -> Reply {
    who.post(&format!("/jobs/{job}/reports"), body).await
}

async fn step_seekers_report(a: &User<'_>, b: &User<'_>, job: &str, fine: &str, draft: &str) {
    let r = report(a, job, json!({"reason": "spam", "details": "Same post 20 times"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = report(a, job, json!({"reason": "fake"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "one report per user per job");
    assert_eq!(r.body["error"], "already_reported");
    assert_eq!(report(b, job, json!({"reason": "fake"})).await.status, StatusCode::CREATED);
    let r = report(b, job, json!({"reason": "other"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "other needs details");
    assert_eq!(report(b, draft, json!({"reason": "spam"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(report(b, fine, json!({"reason": "offensive"})).await.status, StatusCode::CREATED);
}

/// Oldest first, with counts by reason; only admins see it.
async fn step_the_queue_counts_reasons(admin: &User<'_>, seeker: &User<'_>, job: &str) {
    assert_eq!(seeker.get("/admin/reports").await.status, StatusCode::FORBIDDEN);
    let q = admin.get("/admin/reports").await.body;
    let items = q["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["job_id"], job);
    assert_eq!(items[0]["open_reports"], 2);
    assert_eq!(items[0]["reasons"], json!({"spam": 1, "fake": 1, "offensive": 0, "other": 0}));
}

/// Gone from lists, counts and public reads; the company sees why and cannot edit it.
async fn step_suspension_hides_the_job(s: &TestStack, admin: &User<'_>, owner: &User<'_>, eng: &str, job: &str, fine: &str) {
    let path = format!("/admin/jobs/{job}");
    let r = admin.patch(&path, json!({"status": "suspended"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let r = admin
        .patch(&path, json!({"status": "suspended", "reason": "Spam, confirmed"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "suspended");
    assert!(!ids(s.get("/jobs", None).await.body["items"].as_array().unwrap()).contains(&job.to_string()));
    assert_eq!(open_count(s, eng).await, 1);
    assert_eq!(s.get(&format!("/jobs/{job}"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        owner.get(&format!("/jobs/{job}")).await.body["moderation"]["reason"],
        "Spam, confirmed"
    );
    let r = owner.patch(&format!("/jobs/{job}"), json!({"title": "Not spam"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "owners cannot edit a suspended job");
    let q = admin.get("/admin/reports").await.body;
    assert_eq!(ids_of(&q, "job_id"), vec![fine.to_string()], "decided reports leave the queue");
}

/// The other job stays up; the queue empties.
async fn step_dismissing_empties_the_queue(admin: &User<'_>, fine: &str) {
    let r = admin
        .patch(
            &format!("/admin/jobs/{fine}"),
            json!({"status": "published", "reason": "Not offensive"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "published");
    assert!(admin.get("/admin/reports").await.body["items"].as_array().unwrap().is_empty());
}

async fn step_restoring_brings_it_back(s: &TestStack, admin: &User<'_>, eng: &str, job: &str) {
    let r = admin
        .patch(
            &format!("/admin/jobs/{job}"),
            json!({"status": "published", "reason": "Appeal accepted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "published");
    assert!(r.body.get("moderation").is_none());
    assert_eq!(open_count(s, eng).await, 2);
    assert!(ids(s.get("/jobs", None).await.body["items"].as_array().unwrap()).contains(&job.to_string()));
}

/// With actor, entity, before and after.
async fn step_every_decision_is_audited(admin: &User<'_>, job: &str, fine: &str) {
    let audit = admin.get(&format!("/admin/audit?entity_type=job&entity_id={job}")).await;
    assert_eq!(audit.status, StatusCode::OK, "{audit:?}");
    let entries = audit.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["job.restored", "job.suspended"]);
    assert_eq!(entries[1]["before"]["status"], "published");
    assert_eq!(entries[1]["after"]["status"], "suspended");
    assert!(entries[1]["actor_id"].is_string() && entries[1]["occurred_at"].is_string());
    let dismissed = admin.get(&format!("/admin/audit?entity_type=job&entity_id={fine}")).await.body;
    assert_eq!(dismissed["items"][0]["action"], "job.reports_dismissed");
}

fn ids_of(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}
