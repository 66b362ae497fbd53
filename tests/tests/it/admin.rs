//! Administration through the local gateway: users and the audit log.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// An admin finds users, suspends one (sessions end, sign-in refused), reinstates and
/// promotes them, cannot change themselves, and every change is in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_suspend_reinstate_and_change_roles_with_an_audit_trail() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let (email, user) = s.register("seeker").await;
    let id = user["user"]["id"].as_str().unwrap().to_string();
    let other = s.employer().await;

    step_users_are_listed_to_admins_only(&admin, &other, &id).await;
    step_suspension_ends_sessions_and_sign_in(&s, &admin, &email, &user).await;
    step_reinstated_and_promoted(&s, &admin, &email, &id).await;
    step_bad_input_and_self_protection(&admin, &id).await;
    step_the_audit_log_by_entity_and_actor(&admin, &id).await;
    s.shutdown().await;
}

/// Only admins; filtered by role; never with password hashes.
async fn step_users_are_listed_to_admins_only(admin: &User<'_>, other: &User<'_>, id: &str) {
    assert_eq!(other.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    let r = admin.get("/admin/users?role=seeker&limit=100").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let items = r.body["items"].as_array().unwrap();
    assert!(items.iter().any(|u| u["id"] == id));
    assert!(items.iter().all(|u| u["role"] == "seeker" && u.get("password_hash").is_none()));
    let all = admin.get("/admin/users?limit=100").await;
    assert!(all.body["items"].as_array().unwrap().iter().any(|u| u["id"] == other.id.as_str()));
    assert_eq!(admin.get("/admin/users?role=wizard").await.status, StatusCode::BAD_REQUEST);
}

async fn step_suspension_ends_sessions_and_sign_in(s: &TestStack, admin: &User<'_>, email: &str, user: &Value) {
    let id = user["user"]["id"].as_str().unwrap();
    let r = admin
        .patch(&format!("/admin/users/{id}"), json!({"status": "suspended", "reason": "spam"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "suspended");
    let refresh = s.post("/auth/refresh", json!({"refresh_token": user["refresh_token"]}), None).await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    let r = s.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"], "account_suspended");
}

async fn step_reinstated_and_promoted(s: &TestStack, admin: &User<'_>, email: &str, id: &str) {
    let r = admin
        .patch(&format!("/admin/users/{id}"), json!({"status": "active", "role": "employer"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["role"], "employer");
}

async fn step_bad_input_and_self_protection(admin: &User<'_>, id: &str) {
    let me = format!("/admin/users/{}", admin.id);
    assert_eq!(admin.patch(&me, json!({"status": "suspended"})).await.status, StatusCode::CONFLICT);
    let user = format!("/admin/users/{id}");
    assert_eq!(admin.patch(&user, json!({})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        admin.patch(&user, json!({"role": "root"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let nobody = admin
        .patch("/admin/users/01JABCDEFGHJKMNPQRSTVWXYZ0", json!({"status": "active"}))
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

/// By entity and by actor, newest first.
async fn step_the_audit_log_by_entity_and_actor(admin: &User<'_>, id: &str) {
    let r = admin.get(&format!("/admin/audit?entity_type=user&entity_id={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let entries = r.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "user.reinstated,user.role_changed");
    assert_eq!(entries[1]["action"], "user.suspended");
    assert_eq!(entries[1]["before"]["status"], "active");
    assert_eq!(entries[1]["after"]["status"], "suspended");
    assert_eq!(entries[1]["after"]["reason"], "spam");
    assert_eq!(entries[1]["actor_id"], admin.id.as_str());
    let by_actor = admin.get(&format!("/admin/audit?actor_id={}&limit=1", admin.id)).await;
    assert_eq!(by_actor.body["items"].as_array().unwrap().len(), 1);
    assert!(by_actor.body["next_cursor"].is_string());
    assert_eq!(admin.get("/admin/audit").await.status, StatusCode::BAD_REQUEST);
    // A value that cannot be part of a key is refused, not taken as missing.
    let r = admin.get(&format!("/admin/audit?entity_type=user&entity_id={id}%23x")).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_filter")),
        "{r:?}"
    );
    assert!(r.body["message"].as_str().unwrap().contains("entity_id"), "{r:?}");
}
