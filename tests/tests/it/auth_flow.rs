//! End-to-end journeys of the Auth section through the local gateway.

use common::token::{TokenUse, ACCESS_TTL_SECS, REFRESH_REMEMBER_TTL_SECS, REFRESH_TTL_SECS};
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

fn tokens(v: &serde_json::Value) -> (String, String) {
    (
        v["access_token"].as_str().unwrap().to_string(),
        v["refresh_token"].as_str().unwrap().to_string(),
    )
}

/// Register, sign in, rotate refresh tokens (a reused one kills its family, not other
/// sessions), sign out (twice is fine; not someone else's session).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_lifecycle_with_rotation_reuse_detection_and_logout() {
    let s = TestStack::start_with(false, false).await;
    let (email, reg) = s.register("seeker").await;
    step_registration_answers_a_session(&email, &reg);
    let login = s.login(&email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
    let me = s.get("/auth/me", Some(&tokens(&login.body).0)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], reg["user"]["id"]);
    assert_eq!(me.body["full_name"], "Test Person");
    step_rotation_and_reuse_detection(&s, &login.body, &reg).await;
    step_logout_ends_one_session(&s, &email).await;
    step_nobody_else_logs_you_out(&s, &email).await;
    s.shutdown().await;
}

fn step_registration_answers_a_session(email: &str, reg: &serde_json::Value) {
    assert_eq!(reg["token_type"], "Bearer");
    assert_eq!(reg["expires_in"], ACCESS_TTL_SECS);
    assert_eq!(reg["user"]["email"], email);
    assert_eq!(reg["user"]["role"], "seeker");
    assert!(reg["user"]["id"].as_str().unwrap().len() == 26 && reg["user"]["created_at"].is_string());
    assert!(reg["user"].get("password_hash").is_none());
}

/// A new pair each time and the old refresh token spent; reusing it kills the family (the
/// descendant too); the registration session is another family and still works.
async fn step_rotation_and_reuse_detection(s: &TestStack, login: &serde_json::Value, reg: &serde_json::Value) {
    let (_, refresh1) = tokens(login);
    let r = s.post("/auth/refresh", json!({"refresh_token": refresh1}), None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let (access2, refresh2) = tokens(&r.body);
    assert_ne!(refresh2, refresh1);
    assert_eq!(s.get("/auth/me", Some(&access2)).await.status, StatusCode::OK);
    let reuse = s.post("/auth/refresh", json!({"refresh_token": refresh1}), None).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.body["error"], "refresh_token_reused");
    assert_error_body(&reuse);
    let dead = s.post("/auth/refresh", json!({"refresh_token": refresh2}), None).await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED, "{dead:?}");
    let (_, reg_refresh) = tokens(reg);
    let other_family = s.post("/auth/refresh", json!({"refresh_token": reg_refresh}), None).await;
    assert_eq!(other_family.status, StatusCode::OK);
}

/// Logging out twice is fine.
async fn step_logout_ends_one_session(s: &TestStack, email: &str) {
    let (access, refresh) = tokens(&s.login(email, PASSWORD).await.body);
    let out = s.post("/auth/logout", json!({"refresh_token": refresh}), Some(&access)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
    let r = s.post("/auth/refresh", json!({"refresh_token": refresh}), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let again = s.post("/auth/logout", json!({"refresh_token": refresh}), Some(&access)).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
}

async fn step_nobody_else_logs_you_out(s: &TestStack, email: &str) {
    let other = s.employer().await;
    let (_, refresh) = tokens(&s.login(email, PASSWORD).await.body);
    let r = other.post("/auth/logout", json!({ "refresh_token": refresh })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.post("/auth/refresh", json!({"refresh_token": refresh}), None).await;
    assert_eq!(r.status, StatusCode::OK, "the session lives on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_lifetimes_and_remember_me() {
    let s = TestStack::start_with(false, false).await;
    let keys = s.keys();
    let (email, _) = s.register("seeker").await;
    let short = s.login(&email, PASSWORD).await;
    let long = s
        .post(
            "/auth/login",
            json!({"email": email, "password": PASSWORD, "remember_me": true}),
            None,
        )
        .await;
    let a = keys.verify(short.body["access_token"].as_str().unwrap(), TokenUse::Access).unwrap();
    assert_eq!(a.exp - a.iat, ACCESS_TTL_SECS);
    let r = keys
        .verify(short.body["refresh_token"].as_str().unwrap(), TokenUse::Refresh)
        .unwrap();
    assert_eq!(r.exp - r.iat, REFRESH_TTL_SECS);
    let r = keys
        .verify(long.body["refresh_token"].as_str().unwrap(), TokenUse::Refresh)
        .unwrap();
    assert_eq!(r.exp - r.iat, REFRESH_REMEMBER_TTL_SECS);
    // Rotation keeps the session's lifetime class.
    let rotated = s
        .post("/auth/refresh", json!({"refresh_token": long.body["refresh_token"]}), None)
        .await;
    let r = keys
        .verify(rotated.body["refresh_token"].as_str().unwrap(), TokenUse::Refresh)
        .unwrap();
    assert_eq!(r.exp - r.iat, REFRESH_REMEMBER_TTL_SECS);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_are_normalised_and_unique() {
    let s = TestStack::start_with(false, false).await;
    let local = unique("Mixed");
    let r = s
        .post(
            "/auth/register",
            json!({"email": format!("  {local}@Example.COM "), "password": PASSWORD, "role": "employer", "full_name": " Grace Hopper "}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let normal = format!("{}@example.com", local.to_lowercase());
    assert_eq!(r.body["user"]["email"], normal);
    assert_eq!(r.body["user"]["full_name"], "Grace Hopper");
    assert_eq!(s.login(&normal.to_uppercase(), PASSWORD).await.status, StatusCode::OK);
    let dup = s
        .post(
            "/auth/register",
            json!({"email": normal.to_uppercase(), "password": PASSWORD, "role": "seeker", "full_name": "X"}),
            None,
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.body["error"], "email_taken");
    assert_error_body(&dup);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_registration_creates_one_account() {
    let s = TestStack::start_with(false, false).await;
    let email = format!("{}@example.com", unique("race"));
    let body = json!({"email": email, "password": PASSWORD, "role": "seeker", "full_name": "Racer"});
    let replies = futures::future::join_all((0..12).map(|_| s.post("/auth/register", body.clone(), None))).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!(created, 1, "{replies:?}");
    assert_eq!(conflicts, 11, "{replies:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_first_result() {
    let s = TestStack::start_with(false, false).await;
    let email = format!("{}@example.com", unique("idem"));
    let body = json!({"email": email, "password": PASSWORD, "role": "seeker", "full_name": "Idem"}).to_string();
    let key = unique("key-");
    let hdr = [("content-type", "application/json"), ("idempotency-key", key.as_str())];
    let first = s.send_raw("POST", "/auth/register", body.clone().into_bytes(), None, &hdr).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = s.send_raw("POST", "/auth/register", body.clone().into_bytes(), None, &hdr).await;
    assert_eq!(again.status, StatusCode::CREATED, "a retry gets the first result, not 409");
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    // Same key, different request: refused.
    let other = json!({"email": format!("{}@example.com", unique("idem")), "password": PASSWORD, "role": "seeker", "full_name": "Other"})
        .to_string();
    let r = s.send_raw("POST", "/auth/register", other.into_bytes(), None, &hdr).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"], "idempotency_key_reused");
    // Invalid keys are a clear 400.
    let r = s
        .send_raw(
            "POST",
            "/auth/register",
            body.into_bytes(),
            None,
            &[("idempotency-key", "has space"), ("content-type", "application/json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_requests_with_one_idempotency_key_get_one_result() {
    let s = TestStack::start_with(false, false).await;
    let email = format!("{}@example.com", unique("idemrace"));
    let body = json!({"email": email, "password": PASSWORD, "role": "employer", "full_name": "Racer"}).to_string();
    let key = unique("key-");
    let hdr = [("content-type", "application/json"), ("idempotency-key", key.as_str())];
    let replies =
        futures::future::join_all((0..8).map(|_| s.send_raw("POST", "/auth/register", body.clone().into_bytes(), None, &hdr))).await;
    for r in &replies {
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["user"]["id"], replies[0].body["user"]["id"]);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_and_reset_password_ends_old_sessions() {
    let s = TestStack::start().await;
    let (email, reg) = s.register("seeker").await;
    let (_, old_refresh) = tokens(&reg);

    // Unknown emails get the same answer and no mail.
    let ghost = format!("{}@example.com", unique("ghost"));
    let r = s.post("/auth/password/forgot", json!({"email": ghost}), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    let r = s.post("/auth/password/forgot", json!({"email": email.to_uppercase()}), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let code = reset_code(&email).await;
    assert!(emails_to(&ghost).await.is_empty());

    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    let r = s.reset_password(&email, wrong, "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_reset_code");
    // A weak new password is refused before the code is spent.
    let r = s.reset_password(&email, &code, "password1").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = s.reset_password(&email, &code, "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    // Single use.
    let r = s.reset_password(&email, &code, "yet another passphrase").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Old sessions are dead, the old password too.
    let r = s.post("/auth/refresh", json!({"refresh_token": old_refresh}), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "session_revoked");
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.login(&email, "a brand new passphrase").await.status, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_codes_burn_the_reset_code() {
    let s = TestStack::start().await;
    let (email, _) = s.register("seeker").await;
    s.post("/auth/password/forgot", json!({"email": email}), None).await;
    let code = reset_code(&email).await;
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    for _ in 0..5 {
        let r = s.reset_password(&email, wrong, "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = s.reset_password(&email, &code, "a brand new passphrase").await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "the right code no longer works after five wrong tries"
    );
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_lock_the_account() {
    let s = TestStack::start_with(false, false).await;
    let (email, _) = s.register("employer").await;
    for i in 0..5 {
        let r = s.login(&email, "not the password at all").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert_eq!(r.body["error"], "invalid_credentials");
    }
    let r = s.login(&email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "locked even for the right password: {r:?}");
    assert_error_body(&r);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    // Unknown accounts and wrong passwords look the same.
    let ghost = s.login(&format!("{}@example.com", unique("ghost")), "whatever it is").await;
    assert_eq!(ghost.status, StatusCode::UNAUTHORIZED);
    assert_eq!(ghost.body["error"], "invalid_credentials");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_keeps_this_session_and_ends_the_others() {
    let s = TestStack::start_with(false, false).await;
    let (email, _) = s.register("seeker").await;
    let a = s.login(&email, PASSWORD).await.body;
    let b = s.login(&email, PASSWORD).await.body;
    let (a_access, a_refresh) = tokens(&a);
    let (_, b_refresh) = tokens(&b);

    let r = s
        .post(
            "/auth/password/change",
            json!({"current_password": "wrong wrong wrong", "new_password": "a brand new passphrase"}),
            Some(&a_access),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["details"]["current_password"].is_array());
    let r = s
        .post(
            "/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": "qwerty123"}),
            Some(&a_access),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = s
        .post(
            "/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
            Some(&a_access),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert_eq!(
        s.post("/auth/refresh", json!({"refresh_token": a_refresh}), None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.post("/auth/refresh", json!({"refresh_token": b_refresh}), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.login(&email, "a brand new passphrase").await.status, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_cannot_register_but_the_command_creates_them() {
    let s = TestStack::start_with(false, false).await;
    for role in ["admin", "superuser", "", "Seeker"] {
        let r = s
            .post(
                "/auth/register",
                json!({"email": format!("{}@example.com", unique("a")), "password": PASSWORD, "role": role, "full_name": "A"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "role {role}: {r:?}");
        assert!(r.body["details"]["role"].is_array());
    }
    let email = format!("{}@example.com", unique("admin"));
    auth::admin::create_admin(s.running.app, &email, PASSWORD, "Root").await.unwrap();
    let login = s.login(&email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["user"]["role"], "admin");
    let dup = auth::admin::create_admin(s.running.app, &email, PASSWORD, "Root")
        .await
        .unwrap_err();
    assert_eq!(dup.status.as_u16(), 409);
    s.shutdown().await;
}
