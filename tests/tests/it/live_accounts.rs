//! A suspended, demoted or erased account's unexpired access token changes nothing: every
//! write route, for each role, is refused at once (the write's transaction checks the live
//! account), and admin routes check the admin's live account before acting.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Write routes no signed-in account's state gates: signing in and out, registering, resets.
const NOT_GATED: &[&str] = &[
    "POST /auth/register",
    "POST /auth/login",
    "POST /auth/refresh",
    "POST /auth/logout",
    "POST /auth/password/forgot",
    "POST /auth/password/reset",
    // Proving an address with a mailed code, asking for a new one: no session.
    "POST /auth/email/verify",
    "POST /auth/email/resend",
    // The emailed one-click link: a sealed token, no account session.
    "GET /unsubscribe",
    "POST /unsubscribe",
    // Analytics from anyone (a token only names the viewer): they change no account data.
    "POST /analytics/events",
    "POST /search/clicks",
];

/// One request an account of some role may make: (method, path, body).
type Call = (&'static str, String, Option<Value>);

struct Case {
    user_id: String,
    email: String,
    token: String,
    role: &'static str,
    calls: Vec<Call>,
}

/// Everything for `role`'s write routes to succeed, then the calls (each would succeed now).
async fn case(s: &TestStack, admin: &str, role: &'static str) -> Case {
    let owner = s.employer().await;
    let company = owner.create_company("Owner Co").await;
    let slug = id_of(
        &s.post("/categories", json!({"name": format!("Cat {}", unique(""))}), Some(admin))
            .await,
    );
    let job_body = |company: &str| job_body(company, &slug, json!({}));
    let job = owner.post_job(&company, &slug, json!({})).await;
    let soon = common::time::rfc3339(common::time::now_secs() + 86400);
    let (email, body) = match role {
        "admin" => {
            let email = format!("{}@example.com", unique("admin"));
            auth::admin::create_admin(s.running.app, &email, PASSWORD, "Admin").await.unwrap();
            let r = s.login(&email, PASSWORD).await;
            (email, r.body)
        }
        other => s.register(other).await,
    };
    let me = token_of(&body);
    let user_id = body["user"]["id"].as_str().unwrap().to_string();
    s.mark_verified(&user_id).await;
    let calls: Vec<Call> = match role {
        "seeker" => {
            let other_job = owner.post_job(&company, &slug, json!({})).await;
            let applied = id_of(&s.post(&format!("/jobs/{other_job}/applications"), json!({}), Some(&me)).await);
            let saved_search = json!({"name": "Welding", "query": {"q": "welder"}});
            let saved = id_of(&s.post("/me/saved-searches", saved_search.clone(), Some(&me)).await);
            let notice = notifications::inbox::Notification {
                id: ulid::Ulid::new().to_string(),
                kind: notifications::inbox::Kind::ApplicationStatus,
                title: "t".into(),
                body: "b".into(),
                data: Default::default(),
                created_at: common::time::now_rfc3339(),
                read_at: None,
            };
            notifications::inbox::deliver(s.running.app, &user_id, &notice).await.unwrap();
            let device = json!({"platform": "android", "token": unique("tok")});
            let device = id_of(&s.post("/me/devices", device, Some(&me)).await);
            vec![
                (
                    "POST",
                    "/me/devices".into(),
                    Some(json!({"platform": "web", "token": unique("tok")})),
                ),
                ("DELETE", format!("/me/devices/{device}"), None),
                (
                    "PUT",
                    "/me/notification-preferences".into(),
                    Some(json!({"channels": {"in_app": true, "email": true, "push": false}, "kinds": {}})),
                ),
                ("POST", format!("/me/notifications/{}/read", notice.id), None),
                ("POST", "/me/notifications/read-all".into(), None),
                ("POST", "/me/saved-searches".into(), Some(saved_search)),
                ("DELETE", format!("/me/saved-searches/{saved}"), None),
                ("PATCH", "/me/profile".into(), Some(json!({"headline": "Welder"}))),
                (
                    "POST",
                    "/me/resume".into(),
                    Some(json!({"content_type": "application/pdf", "size_bytes": 1000})),
                ),
                (
                    "POST",
                    "/me/avatar".into(),
                    Some(json!({"content_type": "image/png", "size_bytes": 1000})),
                ),
                ("POST", format!("/jobs/{job}/applications"), Some(json!({}))),
                ("DELETE", format!("/applications/{applied}"), None),
                ("POST", format!("/jobs/{job}/reports"), Some(json!({"reason": "spam"}))),
                (
                    "POST",
                    "/auth/password/change".into(),
                    Some(json!({"current_password": PASSWORD, "new_password": "another long passphrase 2026"})),
                ),
                ("DELETE", "/me".into(), None),
            ]
        }
        "employer" => {
            let mine = id_of(&s.post("/companies", json!({"name": "Mine Co"}), Some(&me)).await);
            let my_job = id_of(&s.post("/jobs", job_body(&mine), Some(&me)).await);
            let (_, sk) = s.register("seeker").await;
            let application = id_of(
                &s.post(&format!("/jobs/{my_job}/applications"), json!({}), Some(&token_of(&sk)))
                    .await,
            );
            let path = format!("/applications/{application}");
            for to in ["reviewed", "shortlisted"] {
                let r = s
                    .send("PATCH", &format!("{path}/status"), Some(json!({"status": to})), Some(&me))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{r:?}");
            }
            let interview_body = json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"});
            let interview = id_of(&s.post(&format!("{path}/interviews"), interview_body.clone(), Some(&me)).await);
            let (member_email, member) = s.register("employer").await;
            let member_id = member["user"]["id"].as_str().unwrap().to_string();
            let (new_email, _) = s.register("employer").await;
            let r = s
                .post(&format!("/companies/{mine}/members"), json!({"email": member_email}), Some(&me))
                .await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
            let member_token = token_of(&member);
            let invited = s.get("/me/invitations", Some(&member_token)).await.body["items"][0]["id"].clone();
            let r = s
                .post(
                    &format!("/me/invitations/{}/accept", invited.as_str().unwrap()),
                    json!({}),
                    Some(&member_token),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            // Two invitations waiting for this account (one pending per company and address):
            // one to accept, one to decline.
            let second = owner.create_company("Second Inviter").await;
            for inviter in [&company, &second] {
                let r = owner.post(&format!("/companies/{inviter}/members"), json!({"email": email})).await;
                assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
            }
            let waiting = s.get("/me/invitations", Some(&me)).await.body["items"].clone();
            let waiting: Vec<String> = waiting
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect();
            vec![
                ("POST", format!("/me/invitations/{}/accept", waiting[0]), Some(json!({}))),
                ("POST", format!("/me/invitations/{}/decline", waiting[1]), Some(json!({}))),
                ("POST", "/companies".into(), Some(json!({"name": "Another Co"}))),
                ("PATCH", format!("/companies/{mine}"), Some(json!({"description": "We hire."}))),
                ("POST", format!("/companies/{mine}/members"), Some(json!({"email": new_email}))),
                ("DELETE", format!("/companies/{mine}/members/{member_id}"), None),
                ("POST", "/jobs".into(), Some(job_body(&mine))),
                (
                    "PATCH",
                    format!("/jobs/{my_job}"),
                    Some(json!({"title": "Senior backend engineer"})),
                ),
                ("POST", format!("{path}/interviews"), Some(interview_body)),
                ("PATCH", format!("/interviews/{interview}"), Some(json!({"duration_minutes": 45}))),
                ("PATCH", format!("{path}/status"), Some(json!({"status": "rejected"}))),
                ("DELETE", format!("/jobs/{my_job}"), None),
                ("PATCH", "/me/profile".into(), Some(json!({"headline": "Recruiter"}))),
                ("POST", format!("/jobs/{job}/reports"), Some(json!({"reason": "spam"}))),
            ]
        }
        _ => {
            let (_, victim) = s.register("seeker").await;
            let victim = victim["user"]["id"].as_str().unwrap().to_string();
            let (_, other) = s.register("seeker").await;
            let other = other["user"]["id"].as_str().unwrap().to_string();
            vec![
                ("POST", "/categories".into(), Some(json!({"name": format!("New {}", unique(""))}))),
                ("PATCH", format!("/categories/{slug}"), Some(json!({"description": "Changed"}))),
                ("DELETE", format!("/categories/{slug}"), None),
                ("PATCH", format!("/admin/users/{victim}"), Some(json!({"status": "suspended"}))),
                ("DELETE", format!("/admin/users/{other}"), None),
                (
                    "PATCH",
                    format!("/admin/jobs/{job}"),
                    Some(json!({"status": "suspended", "reason": "x"})),
                ),
                ("GET", "/admin/users".into(), None),
                ("GET", format!("/admin/audit?entity_type=user&entity_id={victim}"), None),
                ("GET", "/admin/reports".into(), None),
            ]
        }
    };
    Case {
        user_id,
        email,
        token: me,
        role,
        calls,
    }
}

#[derive(Clone, Copy, Debug)]
enum Change {
    Suspend,
    Demote,
    Erase,
}

async fn apply_change(s: &TestStack, admin: &str, c: &Case, change: Change) {
    let path = format!("/admin/users/{}", c.user_id);
    let r = match change {
        Change::Suspend => s.send("PATCH", &path, Some(json!({"status": "suspended"})), Some(admin)).await,
        Change::Demote => {
            let to = if c.role == "seeker" { "employer" } else { "seeker" };
            s.send("PATCH", &path, Some(json!({"role": to})), Some(admin)).await
        }
        Change::Erase => s.send("DELETE", &path, None, Some(admin)).await,
    };
    assert!(r.status.is_success(), "{change:?} {}: {r:?}", c.email);
}

async fn every_write_is_refused_after(change: Change) {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin_token().await;
    for role in ["seeker", "employer", "admin"] {
        let c = case(&s, &admin, role).await;
        apply_change(&s, &admin, &c, change).await;
        for (method, path, body) in &c.calls {
            let r = s.send(method, path, body.clone(), Some(&c.token)).await;
            let expected: &[&str] = match change {
                Change::Suspend => &["account_suspended"],
                Change::Demote => &["role_changed", "session_revoked"],
                // Erasure also removed the memberships: some routes refuse before the write.
                Change::Erase => &["account_deleted", "session_revoked", "not_found", "forbidden", "not_a_member"],
            };
            assert!(
                matches!(r.status.as_u16(), 401 | 403 | 404) && expected.contains(&r.body["error"].as_str().unwrap_or_default()),
                "{change:?} {role}: {method} {path} answered {r:?}"
            );
        }
    }
    // The routes above are every write route of the template (and the admin reads).
    let t = devstack::template::Template::load(&devstack::default_template()).unwrap();
    for (method, path, _) in t.http_routes().unwrap() {
        if method == "GET" || path == "$default" || NOT_GATED.contains(&format!("{method} {path}").as_str()) {
            continue;
        }
        assert!(
            WRITE_ROUTES.contains(&format!("{method} {path}").as_str()),
            "{method} {path} is not covered here"
        );
    }
    s.shutdown().await;
}

/// The template routes the cases above call (kept in step by the loop over the template).
const WRITE_ROUTES: &[&str] = &[
    "POST /me/devices",
    "DELETE /me/devices/{id}",
    "PUT /me/notification-preferences",
    "POST /me/notifications/{id}/read",
    "POST /me/notifications/read-all",
    "POST /me/saved-searches",
    "DELETE /me/saved-searches/{id}",
    "PATCH /me/profile",
    "POST /me/resume",
    "POST /me/avatar",
    "POST /jobs/{id}/applications",
    "DELETE /applications/{id}",
    "POST /jobs/{id}/reports",
    "POST /auth/password/change",
    "DELETE /me",
    "POST /companies",
    "PATCH /companies/{id}",
    "POST /companies/{id}/members",
    "DELETE /companies/{id}/members/{user_id}",
    "POST /me/invitations/{id}/accept",
    "POST /me/invitations/{id}/decline",
    "POST /jobs",
    "PATCH /jobs/{id}",
    "DELETE /jobs/{id}",
    "PATCH /applications/{id}/status",
    "POST /applications/{id}/interviews",
    "PATCH /interviews/{id}",
    "POST /categories",
    "PATCH /categories/{slug}",
    "DELETE /categories/{slug}",
    "PATCH /admin/users/{id}",
    "DELETE /admin/users/{id}",
    "PATCH /admin/jobs/{id}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_account_changes_nothing() {
    every_write_is_refused_after(Change::Suspend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_account_changes_nothing() {
    every_write_is_refused_after(Change::Demote).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_account_changes_nothing() {
    every_write_is_refused_after(Change::Erase).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_account_makes_the_same_calls() {
    // The control: the same calls succeed for accounts nobody changed, so the refusals above
    // come from the account checks, not from the calls themselves.
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin_token().await;
    for role in ["seeker", "employer", "admin"] {
        let c = case(&s, &admin, role).await;
        for (method, path, body) in &c.calls {
            let r = s.send(method, path, body.clone(), Some(&c.token)).await;
            assert!(r.status.is_success(), "{role}: {method} {path} answered {r:?}");
        }
    }
    s.shutdown().await;
}
