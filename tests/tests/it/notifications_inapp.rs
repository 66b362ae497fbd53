//! In-app notifications: the hiring pipeline notifies applicant and company members, the
//! unread count follows reads, the same event notifies once, nobody reads another's.

use std::time::Duration;

use common::consumer::Delivery;
use common::events::{Actor, ApplicationRef, DomainEvent};
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

const SOON: Duration = Duration::from_secs(10);

async fn unread(u: &User<'_>) -> i64 {
    u.get("/me/notifications/unread-count").await.body["count"].as_i64().unwrap()
}

async fn kinds_until(u: &User<'_>, want: usize) -> Vec<String> {
    notification_kinds(u, want, SOON).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hiring_pipeline_notifies_applicant_and_company_in_app() {
    let s = TestStack::start().await;
    let (admin, owner, colleague, seeker) = (s.admin().await, s.employer().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Notify Ltd").await;
    owner.add_member(&company, &colleague).await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Harbour pilot", "status": "published"}))
        .await;
    let application = seeker.apply(&job).await;

    for member in [&owner, &colleague] {
        assert_eq!(kinds_until(member, 1).await, vec!["new_applicant"]);
        let r = member.get("/me/notifications?unread=true").await;
        let n = &r.body["items"][0];
        assert_eq!(n["title"], "New applicant for Harbour pilot");
        assert_eq!(n["data"]["application_id"], application.as_str());
        assert!(n["read_at"].is_null() && n["created_at"].is_string());
    }
    assert_eq!(unread(&owner).await, 1);

    owner.move_application(&application, "reviewed").await;
    owner.move_application(&application, "shortlisted").await;
    let soon = common::time::rfc3339(common::time::now_secs() + 86400);
    let r = owner
        .post(
            &format!("/applications/{application}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    // reviewed, shortlisted, interviewing (the scheduling moved it) and the interview itself.
    let kinds = kinds_until(&seeker, 4).await;
    assert_eq!(kinds.iter().filter(|k| *k == "application_status").count(), 3, "{kinds:?}");
    assert!(kinds.contains(&"interview".to_string()));
    let r = seeker.get("/me/notifications?limit=10").await;
    let titles: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Harbour pilot at Notify Ltd: shortlisted"), "{titles:?}");
    // The interviewer hears of it too; the colleague does not.
    assert!(kinds_until(&owner, 2).await.contains(&"interview".to_string()));
    assert_eq!(kinds_until(&colleague, 1).await, vec!["new_applicant"]);
    step_reads_and_counts(&seeker).await;
    step_nobody_reads_anothers(&owner, &seeker).await;
    s.shutdown().await;
}

async fn step_reads_and_counts(seeker: &User<'_>) {
    let before = unread(seeker).await;
    assert!(before >= 4, "{before}");
    let first = seeker.get("/me/notifications").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/me/notifications/{first}/read");
    assert_eq!(seeker.post(&path, json!({})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(seeker.post(&path, json!({})).await.status, StatusCode::NO_CONTENT, "idempotent");
    assert_eq!(unread(seeker).await, before - 1);
    let r = seeker.get("/me/notifications?unread=true&limit=100").await;
    assert!(!ids(r.body["items"].as_array().unwrap()).contains(&first));
    assert!(seeker.get("/me/notifications").await.body["items"][0]["read_at"].is_string());
    assert_eq!(
        seeker.post("/me/notifications/read-all", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(unread(seeker).await, 0);
    assert_eq!(seeker.get("/me/notifications?unread=true").await.body["items"], json!([]));
    let r = seeker.get("/me/notifications?unread=maybe").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_error_body(&r);
}

async fn step_nobody_reads_anothers(owner: &User<'_>, seeker: &User<'_>) {
    // The new-applicant notice is the owner's alone (an interview notice has the same id in
    // both partitions: one event, two recipients).
    let r = owner.get("/me/notifications").await;
    let items = r.body["items"].as_array().unwrap();
    let mine = items.iter().find(|i| i["kind"] == "new_applicant").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = seeker.post(&format!("/me/notifications/{mine}/read"), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    assert!(owner.get("/me/notifications?unread=true").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == mine.as_str()));
    let theirs = ids(seeker.get("/me/notifications").await.body["items"].as_array().unwrap());
    assert!(!theirs.contains(&mine));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_notifies_once() {
    let s = TestStack::start_with(false, false).await;
    let (seeker, employer) = (s.seeker().await, s.employer().await);
    let company = employer.create_company("Twice Co").await;
    let delivery = Delivery {
        id: ulid::Ulid::new().to_string(),
        occurred_at: common::time::now_rfc3339(),
        actor: Actor::user(&seeker.id),
        event: DomainEvent::ApplicationSubmitted(ApplicationRef {
            application_id: ulid::Ulid::new().to_string(),
            job_id: ulid::Ulid::new().to_string(),
            company_id: company,
            seeker_id: seeker.id.clone(),
            job_title: "Twice".into(),
        }),
    };
    for _ in 0..3 {
        notifications::handle(s.running.app, delivery.clone()).await.unwrap();
    }
    let r = employer.get("/me/notifications").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{r:?}");
    assert_eq!(r.body["items"][0]["id"], delivery.id.as_str());
    assert_eq!(unread(&employer).await, 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_decide_the_channels() {
    let s = TestStack::start().await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let r = seeker.get("/me/notification-preferences").await;
    assert_eq!(r.body["channels"], json!({"in_app": true, "email": true, "push": true}));
    assert_eq!(
        r.body["kinds"]["new_applicant"],
        json!({"in_app": true, "email": true, "push": false})
    );
    let r = seeker
        .send(
            "PUT",
            "/me/notification-preferences",
            Some(json!({"channels": {"in_app": true, "email": true, "push": true},
            "kinds": {"account_security": {"in_app": true, "email": false, "push": true}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_error_body(&r);

    // The owner wants no in-app notice of applicants; the seeker no email at all.
    let r = owner
        .send(
            "PUT",
            "/me/notification-preferences",
            Some(json!({"channels": {"in_app": true, "email": true, "push": false},
            "kinds": {"new_applicant": {"in_app": false, "email": true, "push": false}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.body["kinds"]["interview"],
        json!({"in_app": true, "email": true, "push": true}),
        "others keep defaults"
    );
    let r = seeker
        .send(
            "PUT",
            "/me/notification-preferences",
            Some(json!({"channels": {"in_app": true, "email": false, "push": false}, "kinds": {}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        seeker.get("/me/export").await.body["notification_preferences"]["channels"]["email"],
        false
    );

    let category = admin.create_category().await;
    let company = owner.create_company("Quiet Co").await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Lighthouse keeper", "status": "published"}))
        .await;
    let application = seeker.apply(&job).await;
    owner.move_application(&application, "reviewed").await;
    assert_eq!(kinds_until(&seeker, 1).await, vec!["application_status"], "in-app still on");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        owner.get("/me/notifications").await.body["items"].as_array().unwrap().is_empty(),
        "no in-app new_applicant"
    );
    let mails = emails_to(&seeker.email).await;
    assert!(
        mails
            .iter()
            .all(|m| !m["subject"].as_str().unwrap_or_default().contains("Lighthouse keeper")),
        "no application emails: {mails:?}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn companies_hear_of_jobs_closing_within_three_days_once() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Deadline Co").await;
    let now = common::time::now_secs();
    let deadline = |days: i64| common::time::rfc3339(now + days * 86400);
    let soon = owner
        .post_job(
            &company,
            &category,
            json!({"title": "Soon gone", "status": "published", "application_deadline": deadline(2)}),
        )
        .await;
    owner
        .post_job(
            &company,
            &category,
            json!({"title": "Plenty of time", "status": "published", "application_deadline": deadline(10)}),
        )
        .await;
    owner
        .post_job(
            &company,
            &category,
            json!({"title": "Draft", "status": "draft", "application_deadline": deadline(1)}),
        )
        .await;
    let app = s.running.app;
    assert_eq!(notifications::expiring::warn_due(app, now).await.unwrap(), 1);
    assert_eq!(notifications::expiring::warn_due(app, now + 60).await.unwrap(), 0, "once");
    let r = owner.get("/me/notifications").await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{r:?}");
    assert_eq!(items[0]["kind"], "job_expiring");
    assert_eq!(items[0]["title"], "Soon gone closes in 3 days");
    assert_eq!(items[0]["data"]["job_id"], soon.as_str());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interviews_within_a_day_are_reminded_once_to_both_sides() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Reminder Co").await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Night porter", "status": "published"}))
        .await;
    let application = seeker.apply(&job).await;
    owner.move_application(&application, "reviewed").await;
    owner.move_application(&application, "shortlisted").await;
    let now = common::time::now_secs();
    let schedule = |hours: i64| json!({"scheduled_at": common::time::rfc3339(now + hours * 3600), "duration_minutes": 30, "kind": "phone"});
    let path = format!("/applications/{application}/interviews");
    assert_eq!(owner.post(&path, schedule(2)).await.status, StatusCode::CREATED);
    assert_eq!(owner.post(&path, schedule(72)).await.status, StatusCode::CREATED);
    let cancelled = id_of(&owner.post(&path, schedule(3)).await);
    let r = owner
        .patch(&format!("/interviews/{cancelled}"), json!({"status": "cancelled"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    let app = s.running.app;
    assert_eq!(
        notifications::reminders::remind_due(app, now).await.unwrap(),
        2,
        "applicant and interviewer"
    );
    assert_eq!(notifications::reminders::remind_due(app, now + 600).await.unwrap(), 0, "once");
    for u in [&seeker, &owner] {
        let r = u.get("/me/notifications").await;
        let reminders: Vec<_> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["title"] == "Reminder: interview for Night porter at Reminder Co")
            .collect();
        assert_eq!(reminders.len(), 1, "{r:?}");
        assert_eq!(reminders[0]["kind"], "interview");
    }
    s.shutdown().await;
}

/// What moderators and applicants do reaches the people it concerns through the topic (the
/// filter policy lets these types through: consumers.rs): a withdrawal and a job's
/// suspension and restoration reach its company, a suspension and a role change the account
/// (read after it is reinstated, and after signing in again in its new role).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_withdrawals_and_account_changes_notify() {
    let s = TestStack::start().await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Watched Ltd").await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Tower crane operator", "status": "published"}))
        .await;
    let application = seeker.apply(&job).await;
    assert_eq!(kinds_until(&owner, 1).await, vec!["new_applicant"]);
    let r = seeker.delete(&format!("/applications/{application}")).await;
    assert!(r.status.is_success(), "{r:?}");
    assert_eq!(kinds_until(&owner, 2).await, vec!["application_status", "new_applicant"]);

    let path = format!("/admin/jobs/{job}");
    let r = admin.patch(&path, json!({"status": "suspended", "reason": "Misleading pay"})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = admin.patch(&path, json!({"status": "published", "reason": "Pay corrected"})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(kinds_until(&owner, 4).await[..2], ["job_moderation", "job_moderation"]);
    let items = owner.get("/me/notifications?limit=2").await.body["items"].clone();
    assert_eq!(items[0]["title"], "Tower crane operator is visible again");
    assert_eq!(items[1]["title"], "Tower crane operator was suspended");
    assert!(items[1]["body"].as_str().unwrap().contains("Misleading pay"), "{items}");
    assert_eq!(items[1]["data"]["job_id"], job.as_str());

    let path = format!("/admin/users/{}", seeker.id);
    let r = admin.patch(&path, json!({"status": "suspended", "reason": "Spam"})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = admin.patch(&path, json!({"status": "active", "role": "employer"})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let again = User {
        stack: &s,
        id: seeker.id.clone(),
        email: seeker.email.clone(),
        token: token_of(&s.login(&seeker.email, PASSWORD).await.body),
    };
    let kinds = kinds_until(&again, 2).await;
    assert_eq!(kinds.iter().filter(|k| *k == "account_security").count(), 2, "{kinds:?}");
    let titles = again.get("/me/notifications?limit=5").await.body.to_string();
    assert!(titles.contains("Your account was suspended"), "{titles}");
    assert!(titles.contains("Your account is now an employer account"), "{titles}");
    s.shutdown().await;
}
