//! Revocation reaches access tokens (common::session): after a logout, a password change
//! (the other sessions), refresh-token reuse, a suspension or an erasure, the affected
//! access tokens stop working on every route, reads included, while the others go on.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn pair(v: &Value) -> (String, String) {
    (token_of(v), v["refresh_token"].as_str().unwrap().to_string())
}

/// `token` is refused with `code` on a read and a write.
async fn refused(s: &TestStack, token: &str, status: StatusCode, code: &str, why: &str) {
    for (method, path, body) in [
        ("GET", "/me/profile", None),
        ("GET", "/auth/me", None),
        ("PATCH", "/me/profile", Some(json!({"headline": "Still here"}))),
        ("GET", "/me/export", None),
    ] {
        let r = s.send(method, path, body, Some(token)).await;
        assert_eq!(r.status, status, "{why}: {method} {path}: {r:?}");
        assert_eq!(r.body["error"], code, "{why}: {method} {path}: {r:?}");
        assert_error_body(&r);
    }
}

async fn works(s: &TestStack, token: &str, why: &str) {
    let r = s.get("/me/profile", Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{why}: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tokens_die_with_their_session() {
    let s = TestStack::start_with(false, false).await;
    let (email, reg) = s.register("seeker").await;
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();
    let (first, _) = pair(&reg);
    works(&s, &first, "a fresh session").await;

    // Logout ends that session's access tokens, not the others; logging out twice is fine.
    let (second, second_refresh) = pair(&s.login(&email, PASSWORD).await.body);
    works(&s, &second, "a second session").await;
    let out = s
        .post("/auth/logout", json!({"refresh_token": second_refresh}), Some(&second))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
    refused(&s, &second, StatusCode::UNAUTHORIZED, "session_revoked", "after logout").await;
    let again = s
        .post("/auth/logout", json!({"refresh_token": second_refresh}), Some(&second))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{again:?}");
    works(&s, &first, "the other session after a logout").await;

    // A reused refresh token ends its whole family, access tokens included.
    let (third, third_refresh) = pair(&s.login(&email, PASSWORD).await.body);
    let rotated = s.post("/auth/refresh", json!({"refresh_token": third_refresh}), None).await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    let fourth = token_of(&rotated.body);
    works(&s, &fourth, "a rotated session").await;
    let reused = s.post("/auth/refresh", json!({"refresh_token": third_refresh}), None).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{reused:?}");
    for t in [&third, &fourth] {
        refused(&s, t, StatusCode::UNAUTHORIZED, "session_revoked", "after refresh-token reuse").await;
    }

    // A password change ends the other sessions; the caller's goes on.
    let (fifth, _) = pair(&s.login(&email, PASSWORD).await.body);
    let change = json!({"current_password": PASSWORD, "new_password": "An0ther-Str0ng-Passw0rd!"});
    let r = s.post("/auth/password/change", change, Some(&first)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    refused(
        &s,
        &fifth,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
        "after a password change elsewhere",
    )
    .await;
    works(&s, &first, "the session that changed the password").await;

    // A suspension stops reads as well as writes; reinstating does not revive old tokens.
    let admin = s.admin().await;
    let path = format!("/admin/users/{user_id}");
    assert_eq!(admin.patch(&path, json!({"status": "suspended"})).await.status, StatusCode::OK);
    refused(&s, &first, StatusCode::FORBIDDEN, "account_suspended", "while suspended").await;
    assert_eq!(admin.patch(&path, json!({"status": "active"})).await.status, StatusCode::OK);
    refused(&s, &first, StatusCode::UNAUTHORIZED, "session_revoked", "after reinstatement").await;

    // An erased account's tokens are 401 everywhere.
    let (email, reg) = s.register("seeker").await;
    let gone = token_of(&reg);
    let (other, _) = pair(&s.login(&email, PASSWORD).await.body);
    let r = s.send("DELETE", "/me", None, Some(&gone)).await;
    assert!(r.status.is_success(), "{r:?}");
    for t in [&gone, &other] {
        refused(&s, t, StatusCode::UNAUTHORIZED, "account_deleted", "after erasure").await;
    }
    s.shutdown().await;
}
