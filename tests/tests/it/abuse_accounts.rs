//! Attacks on accounts, each a test that fails if it comes back: parallel password guessing
//! against the lockout, locking an owner out from elsewhere, telling addresses with an
//! account from others by the lockout, and wrong current passwords on a password change.

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
    // 20 wrong at once: one check is left in the window.
    let attempts: Vec<String> = (0..20).map(|i| format!("wrong guess number {i}")).collect();
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
    // The account is locked for the right password too. (A right password that wins the
    // last check signs in and resets the count, as a sign-in does: later guesses then
    // start a new window. That is why it is not raced with the wrong ones here.)
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    s.shutdown().await;
}

/// POST /auth/login from another loopback address (a different network to the platform).
async fn login_from(s: &TestStack, from: &str, email: &str, password: &str) -> (StatusCode, serde_json::Value) {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().ok())
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/auth/login", s.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_holds_one_network_and_looks_the_same_for_every_address() {
    let s = TestStack::start_with(false, false).await;
    let (email, _) = s.register("seeker").await;
    let ghost = format!("{}@example.com", unique("ghost"));
    // Five failures from one network lock that network out, for a real address and for one
    // without an account alike: the same statuses, codes and Retry-After.
    for address in [&email, &ghost] {
        for i in 0..5 {
            let r = s.login(address, "not the password at all").await;
            assert_eq!(
                (r.status, r.body["error"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("invalid_credentials")),
                "{address} {i}"
            );
        }
        let r = s.login(address, "not the password at all").await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("account_locked")),
            "{address}"
        );
        assert!(r.headers.get("retry-after").is_some());
    }
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // The owner signs in from another network, and that network's count is its own.
    let (status, body) = login_from(&s, "127.0.0.2", &email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());
    let (status, _) = login_from(&s, "127.0.0.3", &email, "a wrong guess").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
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

/// The 8-digit code in the newest email to `to` whose subject contains `subject`.
async fn mailed_code(to: &str, subject: &str) -> (String, String) {
    let mail = wait_for_email(to, subject, std::time::Duration::from_secs(15)).await;
    let body = mail["body"].as_str().unwrap_or_default().to_string();
    let code = body
        .split_whitespace()
        .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_digit()))
        .expect("an 8-digit code")
        .to_string();
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employers_verify_their_address_before_companies_and_jobs() {
    let s = TestStack::start().await;
    let (email, reg) = s.register("employer").await;
    let token = reg["access_token"].as_str().unwrap().to_string();
    assert_eq!(reg["user"]["email_verified"], false);
    let r = s.post("/companies", json!({"name": "Unverified Ltd"}), Some(&token)).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("email_unverified")),
        "{r:?}"
    );
    let r = s.post("/jobs", json!({}), Some(&token)).await;
    assert_eq!(r.body["error"], "email_unverified", "{r:?}");

    // The welcome email carries the code and a link with it.
    let (code, body) = mailed_code(&email, "Welcome").await;
    assert!(body.contains("/auth/email/verify?email="), "{body}");
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    let r = s.post("/auth/email/verify", json!({"email": email, "code": wrong}), None).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_verification_code"))
    );
    let r = s.post("/auth/email/verify", json!({"email": email, "code": code}), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert_eq!(s.get("/auth/me", Some(&token)).await.body["email_verified"], true);
    let r = s.post("/companies", json!({"name": "Verified Ltd"}), Some(&token)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    // Used once.
    let r = s.post("/auth/email/verify", json!({"email": email, "code": code}), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Another employer opens the link; asking for a new code within the minute mails none,
    // and unknown addresses get the same answer and no mail.
    let (other, _) = s.register("employer").await;
    let (_, body) = mailed_code(&other, "Welcome").await;
    let ghost = format!("{}@example.com", unique("ghost"));
    for address in [&ghost, &other] {
        let r = s.post("/auth/email/resend", json!({"email": address}), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(emails_to(&ghost).await.is_empty());
    assert!(emails_to(&other).await.iter().all(|m| m["subject"] != "Your verification code"));
    let link = body.split_whitespace().find(|w| w.contains("/auth/email/verify?")).unwrap();
    let path = link.split_once(&s.base).unwrap().1;
    let r = s.get(path, None).await;
    assert_eq!((r.status, &r.body["email_verified"]), (StatusCode::OK, &json!(true)), "{r:?}");
    s.shutdown().await;
}

/// Moves the stored code's issue time back, as if `secs` had passed.
async fn age_code(s: &TestStack, email: &str, secs: i64) {
    let user = auth::store::account_by_email(s.running.app, email).await.unwrap().unwrap().id;
    let app = s.running.app;
    app.dynamo()
        .update_item()
        .table_name(app.table())
        .set_key(Some(common::db::key(format!("USER#{user}"), "PASSWORD_RESET")))
        .update_expression("SET created_at = created_at - :d")
        .expression_attribute_values(":d", common::db::n(secs))
        .send()
        .await
        .unwrap();
}

async fn reset_mails(email: &str) -> usize {
    emails_to(email)
        .await
        .into_iter()
        .filter(|m| m["subject"] == "Your password reset code")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_codes_cannot_be_cycled_for_more_guesses() {
    let s = TestStack::start().await;
    let (email, _) = s.register("seeker").await;
    // The old attack: burn a code with 5 wrong tries, ask for a new one at once, repeat.
    s.post("/auth/password/forgot", json!({"email": email}), None).await;
    let first = reset_code(&email).await;
    let wrong = |code: &str| if code == "00000000" { "11111111" } else { "00000000" }.to_string();
    for _ in 0..5 {
        let r = s.reset_password(&email, &wrong(&first), "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = s.reset_password(&email, &first, "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "burned");
    s.post("/auth/password/forgot", json!({"email": email}), None).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(reset_mails(&email).await, 1, "no new code within the minute");

    // A minute later a second code comes; five more wrong tries use up the day's ten, after
    // which even the right code is refused until tomorrow.
    age_code(&s, &email, 61).await;
    s.post("/auth/password/forgot", json!({"email": email}), None).await;
    let start = std::time::Instant::now();
    while reset_mails(&email).await < 2 {
        assert!(start.elapsed() < std::time::Duration::from_secs(15), "a second code");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let second = reset_code_newest(&email).await;
    for _ in 0..5 {
        let r = s.reset_password(&email, &wrong(&second), "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    }
    age_code(&s, &email, 61).await;
    s.post("/auth/password/forgot", json!({"email": email}), None).await;
    while reset_mails(&email).await < 3 {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "a third code");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let third = reset_code_newest(&email).await;
    let r = s.reset_password(&email, &third, "a brand new passphrase").await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "{r:?}"
    );
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::OK, "the password is unchanged");
    s.shutdown().await;
}

/// The code of the newest reset email.
async fn reset_code_newest(email: &str) -> String {
    let mails: Vec<_> = emails_to(email)
        .await
        .into_iter()
        .filter(|m| m["subject"] == "Your password reset code")
        .collect();
    let body = mails.last().unwrap()["body"].as_str().unwrap().to_string();
    body.split_whitespace()
        .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .to_string()
}
