//! Attacks on accounts, each a test that fails if it comes back: parallel password guessing
//! against the lockout, and wrong current passwords on a password change.

use futures::future::join_all;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_logins_verify_at_most_five_passwords_per_window() {
    let s = TestStack::start_with(false, false).await;
    let (email, _) = s.register("seeker").await;
    for i in 0..4 {
        let r = s.login(&email, "not the password at all").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // 20 wrong and the right one at once: one check is left in the window.
    let mut attempts: Vec<String> = (0..20).map(|i| format!("wrong guess number {i}")).collect();
    attempts.insert(10, PASSWORD.to_string());
    let replies = join_all(attempts.iter().map(|p| s.login(&email, p))).await;
    let checked = replies.iter().filter(|r| r.status != StatusCode::TOO_MANY_REQUESTS).count();
    assert!(
        checked <= 1,
        "{checked} passwords were checked past the fifth: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS) {
        assert_eq!(r.body["error"], "account_locked");
        assert!(r.headers.get("retry-after").is_some());
    }
    // Unless the right one got the last check, the account is locked for it too.
    if !replies.iter().any(|r| r.status == StatusCode::OK) {
        assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_current_passwords_are_limited_like_sign_ins() {
    let s = TestStack::start_with(false, false).await;
    let (email, reg) = s.register("seeker").await;
    let token = reg["access_token"].as_str().unwrap().to_string();
    let change = |current: &str| {
        s.post(
            "/auth/password/change",
            json!({"current_password": current, "new_password": "a brand new passphrase"}),
            Some(&token),
        )
    };
    let replies = join_all((0..12).map(|i| change(if i % 2 == 0 { "wrong one" } else { "wrong two" }))).await;
    let checked = replies.iter().filter(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY).count();
    assert_eq!(checked, 5, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(replies
        .iter()
        .filter(|r| r.status != StatusCode::UNPROCESSABLE_ENTITY)
        .all(|r| r.status == StatusCode::TOO_MANY_REQUESTS && r.body["error"] == "account_locked"));
    // The right one is refused too while the window lasts, and so are sign-ins.
    assert_eq!(change(PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    s.shutdown().await;
}
