//! Administration through the local gateway: users and the audit log.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_suspend_reinstate_and_change_roles_with_an_audit_trail() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin_token().await;
    let admin_id = s.keys().principal(&admin).unwrap().user_id;
    let (email, user) = s.register("seeker").await;
    let id = user["user"]["id"].as_str().unwrap().to_string();
    let (_, other) = s.register("employer").await;

    // Only admins.
    let r = s.get("/admin/users", other["access_token"].as_str()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Listed, filtered by role, never with password hashes.
    let r = s.get("/admin/users?role=seeker&limit=100", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let items = r.body["items"].as_array().unwrap();
    assert!(items.iter().any(|u| u["id"] == id.as_str()));
    assert!(items.iter().all(|u| u["role"] == "seeker" && u.get("password_hash").is_none()));
    let all = s.get("/admin/users?limit=100", Some(&admin)).await;
    assert!(all.body["items"].as_array().unwrap().iter().any(|u| u["id"] == other["user"]["id"]));
    assert_eq!(
        s.get("/admin/users?role=wizard", Some(&admin)).await.status,
        StatusCode::BAD_REQUEST
    );

    // Suspension ends sessions and blocks sign-in.
    let r = s
        .send(
            "PATCH",
            &format!("/admin/users/{id}"),
            Some(json!({"status": "suspended", "reason": "spam"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "suspended");
    assert_eq!(
        s.post("/auth/refresh", json!({"refresh_token": user["refresh_token"]}), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = s.login(&email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"], "account_suspended");

    // Reinstated and promoted.
    let r = s
        .send(
            "PATCH",
            &format!("/admin/users/{id}"),
            Some(json!({"status": "active", "role": "employer"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s.login(&email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["role"], "employer");

    // Bad input and self-protection.
    let me = format!("/admin/users/{admin_id}");
    assert_eq!(
        s.send("PATCH", &me, Some(json!({"status": "suspended"})), Some(&admin))
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        s.send("PATCH", &format!("/admin/users/{id}"), Some(json!({})), Some(&admin))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        s.send("PATCH", &format!("/admin/users/{id}"), Some(json!({"role": "root"})), Some(&admin))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        s.send(
            "PATCH",
            "/admin/users/01JABCDEFGHJKMNPQRSTVWXYZ0",
            Some(json!({"status": "active"})),
            Some(&admin)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The audit log, by entity and by actor, newest first.
    let r = s.get(&format!("/admin/audit?entity_type=user&entity_id={id}"), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let entries = r.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "user.reinstated,user.role_changed");
    assert_eq!(entries[1]["action"], "user.suspended");
    assert_eq!(entries[1]["before"]["status"], "active");
    assert_eq!(entries[1]["after"]["status"], "suspended");
    assert_eq!(entries[1]["after"]["reason"], "spam");
    assert_eq!(entries[1]["actor_id"], admin_id.as_str());
    let by_actor = s.get(&format!("/admin/audit?actor_id={admin_id}&limit=1"), Some(&admin)).await;
    assert_eq!(by_actor.body["items"].as_array().unwrap().len(), 1);
    assert!(by_actor.body["next_cursor"].is_string());
    assert_eq!(s.get("/admin/audit", Some(&admin)).await.status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}
