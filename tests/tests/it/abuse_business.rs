//! Business-flow abuse: only admins feature jobs.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_feature_jobs() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Shiny Inc").await;
    let r = owner
        .post(
            "/jobs",
            job_body(&company, &category, json!({"title": "Look at me", "featured": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.body["details"]["featured"].is_array(), "{r:?}");
    let job = owner
        .post_job(&company, &category, json!({"title": "Plain job", "featured": false}))
        .await;
    let r = owner.patch(&format!("/jobs/{job}"), json!({"featured": true})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    // Sending the value it has is no attempt.
    let r = owner
        .patch(&format!("/jobs/{job}"), json!({"featured": false, "title": "Plain job, renamed"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(s.get("/jobs/featured", None).await.body["items"].as_array().unwrap().is_empty());

    // The admin features it (no reason needed); it is listed and the decision is audited.
    let r = admin.patch(&format!("/admin/jobs/{job}"), json!({"featured": true})).await;
    assert_eq!((r.status, &r.body["featured"]), (StatusCode::OK, &json!(true)), "{r:?}");
    let featured = s.get("/jobs/featured", None).await;
    assert_eq!(ids(featured.body["items"].as_array().unwrap()), vec![job.clone()]);
    let audit = admin.get(&format!("/admin/audit?entity_type=job&entity_id={job}")).await;
    assert!(audit.body.to_string().contains("\"featured\":true"), "{audit:?}");
    // The owner still cannot undo it; nobody but admins reaches the admin route.
    let r = owner.patch(&format!("/jobs/{job}"), json!({"featured": false})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = owner.patch(&format!("/admin/jobs/{job}"), json!({"featured": false})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An empty decision and a status without a reason are refused.
    assert_eq!(
        admin.patch(&format!("/admin/jobs/{job}"), json!({})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = admin.patch(&format!("/admin/jobs/{job}"), json!({"status": "suspended"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["details"]["reason"].is_array(), "{r:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_removals_keep_one_owner_and_invitations_ask_first() {
    let s = TestStack::start().await;
    let (ada, bob) = (s.employer().await, s.employer().await);
    let company = ada.create_company("Two Owners Ltd").await;
    let members = format!("/companies/{company}/members");
    let r = ada.post(&members, json!({"email": bob.email, "role": "owner"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    // Bob is told by email (an existing employer); an unknown address gets nothing.
    let ghost = format!("{}@example.com", unique("ghost"));
    ada.post(&members, json!({"email": ghost})).await;
    wait_for_email(&bob.email, "Join Two Owners Ltd", std::time::Duration::from_secs(15)).await;
    let invitation = bob.get("/me/invitations").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bob.post(&format!("/me/invitations/{invitation}/accept"), json!({})).await;
    assert_eq!((r.status, &r.body["role"]), (StatusCode::OK, &json!("owner")), "{r:?}");
    assert!(emails_to(&ghost).await.is_empty());

    // Both owners leave at once: one may, the other is the last owner.
    let (ada_leaves, bob_leaves) = (format!("{members}/{}", ada.id), format!("{members}/{}", bob.id));
    let (a, b) = tokio::join!(ada.delete(&ada_leaves), bob.delete(&bob_leaves));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [204, 409], "{a:?} {b:?}");
    let left = if a.status == StatusCode::NO_CONTENT { &bob } else { &ada };
    let team = left.get(&members).await;
    let roles: Vec<&str> = team.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner"]);
    s.shutdown().await;
}
