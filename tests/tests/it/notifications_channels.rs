//! Every channel at once: the hiring pipeline through the gateway produces the expected
//! in-app notifications, emails and pushes for applicant and employer, under default and
//! changed preferences; each email's one-click link turns its kind off; a failing email is
//! retried without repeating the channels that succeeded; nobody reads, marks or deletes
//! another user's notifications or devices.

use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SOON: Duration = Duration::from_secs(15);

async fn subjects(to: &str) -> Vec<String> {
    emails_to(to)
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn kinds(u: &User<'_>, want: usize) -> Vec<String> {
    notification_kinds(u, want, SOON).await
}

async fn register_device(u: &User<'_>, platform: &str) -> (String, String) {
    let token = unique(&format!("{platform}-token"));
    let r = u.post("/me/devices", json!({"platform": platform, "token": token})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    (r.body["id"].as_str().unwrap().to_string(), token)
}

fn channels(in_app: bool, email: bool, push: bool) -> Value {
    json!({"in_app": in_app, "email": email, "push": push})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hiring_pipeline_reaches_each_channel_as_each_side_chose() {
    let s = TestStack::start().await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let (_, seeker_phone) = register_device(&seeker, "ios").await;
    let (_, owner_phone) = register_device(&owner, "android").await;
    // The seeker keeps the defaults but wants no interview emails; the owner wants pushes
    // of new applicants (off by default).
    let r = seeker
        .send(
            "PUT",
            "/me/notification-preferences",
            Some(json!({"channels": channels(true, true, true), "kinds": {"interview": channels(true, false, true)}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = owner
        .send(
            "PUT",
            "/me/notification-preferences",
            Some(json!({"channels": channels(true, true, true), "kinds": {"new_applicant": channels(true, true, true)}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    let category = admin.create_category().await;
    let company = owner.create_company("Channel Works").await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Lock keeper", "status": "published"}))
        .await;
    let application = seeker.apply(&job).await;
    assert_eq!(kinds(&owner, 1).await, vec!["new_applicant"]);
    let r = owner
        .patch(
            &format!("/applications/{application}/status"),
            json!({"status": "reviewed", "note": "Secret: salary expectations too high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    owner.move_application(&application, "shortlisted").await;
    let soon = common::time::rfc3339(common::time::now_secs() + 2 * 86400);
    let r = owner
        .post(
            &format!("/applications/{application}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 45, "kind": "video", "meeting_url": "https://meet.example/lock"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    // In-app: reviewed, shortlisted, interviewing (the scheduling moved it), the interview;
    // the owner: the applicant and the interview.
    let seeker_kinds = kinds(&seeker, 4).await;
    assert_eq!(
        seeker_kinds.iter().filter(|k| *k == "application_status").count(),
        3,
        "{seeker_kinds:?}"
    );
    assert!(seeker_kinds.contains(&"interview".into()));
    let owner_kinds = kinds(&owner, 2).await;
    assert!(owner_kinds.contains(&"interview".into()) && owner_kinds.contains(&"new_applicant".into()));

    // Email: the seeker's moves by default, no interview mail (turned off); the owner's
    // new applicant and interview (defaults).
    let mail = wait_for_email(&seeker.email, "Lock keeper at Channel Works: reviewed", SOON).await;
    let text = mail["body"].as_str().unwrap();
    assert!(text.contains("reviewed your application for Lock keeper"), "{text}");
    assert!(mail["html"].as_str().unwrap().contains("<h1"), "an HTML part");
    wait_for_email(&owner.email, "New applicant for Lock keeper", SOON).await;
    wait_for_email(&owner.email, "Interview for Lock keeper", SOON).await;
    wait_for_email(&seeker.email, "Lock keeper at Channel Works: interviewing", SOON).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seekers = subjects(&seeker.email).await;
    assert!(
        !seekers.iter().any(|s| s.starts_with("Interview for")),
        "no interview mail: {seekers:?}"
    );
    // Employer-only notes never reach the applicant, on any channel.
    let everything = format!(
        "{} {} {}",
        json!(emails_to(&seeker.email).await),
        json!(pushes_to(&seeker_phone).await),
        seeker.get("/me/notifications?limit=50").await.body
    );
    assert!(!everything.contains("Secret"), "{everything}");

    // Push: the seeker's application moves and interview (all on by default); the owner's
    // new applicant (turned on) and interview.
    let seeker_pushes = pushes_to(&seeker_phone).await;
    assert_eq!(seeker_pushes.len(), 4, "{seeker_pushes:?}");
    let owner_pushes = pushes_to(&owner_phone).await;
    assert_eq!(owner_pushes.len(), 2, "{owner_pushes:?}");
    assert!(
        owner_pushes.iter().any(|p| p.to_string().contains("New applicant for Lock keeper")),
        "{owner_pushes:?}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_email_unsubscribes_its_kind_in_one_click() {
    let s = TestStack::start().await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Link Ltd").await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Ferry captain", "status": "published"}))
        .await;
    seeker.apply(&job).await;
    let mail = wait_for_email(&owner.email, "New applicant for Ferry captain", SOON).await;
    let link = mail["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/unsubscribe?token="))
        .expect("an unsubscribe link")
        .to_string();
    let path = link.split_once(&s.running.base_url()).unwrap().1.to_string();
    // Altered: refused, nothing changes.
    let r = s.post(&format!("{path}x"), json!({}), None).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token"))
    );
    // The one-click POST (RFC 8058) without a login.
    let r = s.post(&path, json!({}), None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["kind"], "new_applicant");
    let prefs = owner.get("/me/notification-preferences").await.body;
    assert_eq!(
        prefs["kinds"]["new_applicant"],
        channels(true, false, false),
        "only that kind's email"
    );
    assert_eq!(prefs["kinds"]["interview"]["email"], true);
    // The next applicant is in-app only.
    let other = s.seeker().await;
    other.apply(&job).await;
    assert_eq!(kinds(&owner, 2).await, vec!["new_applicant", "new_applicant"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let owners = subjects(&owner.email).await;
    assert_eq!(owners.iter().filter(|s| s.starts_with("New applicant")).count(), 1, "{owners:?}");

    // Security notices have no link: they cannot be turned off.
    let r = seeker
        .post(
            "/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": "another horse battery staple"}),
        )
        .await;
    assert!(r.status.is_success(), "{r:?}");
    let mail = wait_for_email(&seeker.email, "Your password was changed", SOON).await;
    assert!(!mail["body"].as_str().unwrap().contains("/unsubscribe"), "{mail}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_email_is_retried_without_repeating_the_other_channels() {
    let s = TestStack::start_with(false, false).await;
    let ada = s.seeker().await;
    let (_, phone) = register_device(&ada, "android").await;
    let notice = security_notice(&ada.id);
    // SES refuses (the sender identity is gone): the event fails, in-app and push are done.
    let ses = aws_sdk_sesv2::Client::new(s.sdk());
    let from = s.running.app.settings.mail_from.clone();
    ses.delete_email_identity().email_identity(&from).send().await.unwrap();
    assert!(notifications::handle(s.running.app, notice.clone()).await.is_err());
    assert_eq!(kinds(&ada, 1).await, vec!["account_security"]);
    assert_eq!(pushes_to(&phone).await.len(), 1);
    assert!(emails_to(&ada.email).await.is_empty());
    // The retry sends the email only; a later redelivery nothing at all.
    ses.create_email_identity().email_identity(&from).send().await.unwrap();
    notifications::handle(s.running.app, notice.clone()).await.unwrap();
    notifications::handle(s.running.app, notice).await.unwrap();
    assert_eq!(subjects(&ada.email).await, vec!["Your password was changed"]);
    assert_eq!(pushes_to(&phone).await.len(), 1);
    assert_eq!(kinds(&ada, 1).await.len(), 1);
    assert_eq!(ada.get("/me/notifications/unread-count").await.body["count"], 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_touches_another_users_notifications_or_devices() {
    let s = TestStack::start_with(false, false).await;
    let (ada, bob) = (s.seeker().await, s.employer().await);
    let (device, token) = register_device(&ada, "web").await;
    let notice = security_notice(&ada.id);
    notifications::handle(s.running.app, notice.clone()).await.unwrap();
    let id = notice.id;
    // Bob (and anyone without a token) can neither see, mark nor delete Ada's.
    for (who, token) in [("bob", Some(bob.token.as_str())), ("anonymous", None)] {
        let listed = s.get("/me/notifications", token).await;
        if let Some(items) = listed.body["items"].as_array() {
            assert!(items.iter().all(|i| i["id"] != id.as_str()), "{who}");
        } else {
            assert_eq!(listed.status, StatusCode::UNAUTHORIZED, "{who}");
        }
        let read = s.post(&format!("/me/notifications/{id}/read"), json!({}), token).await;
        assert!(matches!(read.status.as_u16(), 401 | 404), "{who}: {read:?}");
        let all = s.post("/me/notifications/read-all", json!({}), token).await;
        assert!(matches!(all.status.as_u16(), 204 | 401), "{who}: {all:?}");
        let gone = s.send("DELETE", &format!("/me/devices/{device}"), None, token).await;
        assert!(matches!(gone.status.as_u16(), 401 | 404), "{who}: {gone:?}");
        // Registering Ada's token from another account is a move, not a read: covered in
        // the push tests. Bob's export holds nothing of Ada's.
        if let Some(t) = token {
            let export = s.get("/me/export", Some(t)).await.body.to_string();
            assert!(!export.contains(&id) && !export.contains(&device), "{who}");
        }
    }
    // Ada's notification is still unread and her device still there.
    assert_eq!(ada.get("/me/notifications/unread-count").await.body["count"], 1);
    assert_eq!(ada.get("/me/export").await.body["devices"][0]["id"], device.as_str());
    // ... and its push endpoint untouched.
    let endpoint = platform_endpoints().await.into_iter().find(|e| e["token"] == token.as_str());
    assert_eq!(endpoint.expect("Ada's endpoint")["enabled"], true);
    // Her own marks work.
    let r = ada.post(&format!("/me/notifications/{id}/read"), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let r = ada.delete(&format!("/me/devices/{device}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    s.shutdown().await;
}
