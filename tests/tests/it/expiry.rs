//! Expiry is checked by the code, never left to DynamoDB TTL (late in AWS, never in moto):
//! these tests age the stored items and expect the rules to hold at once.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

async fn set_number(s: &TestStack, pk: &str, sk: &str, attr: &str, value: i64) {
    aws_sdk_dynamodb::Client::new(s.sdk())
        .update_item()
        .table_name(s.running.app.table())
        .key("PK", AttributeValue::S(pk.into()))
        .key("SK", AttributeValue::S(sk.into()))
        .update_expression("SET #a = :v")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#a", attr)
        .expression_attribute_values(":v", AttributeValue::N(value.to_string()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("aging {pk}/{sk}: {e:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reset_code_is_refused() {
    let s = TestStack::start().await;
    let (email, reg) = s.register("seeker").await;
    s.post("/auth/password/forgot", json!({"email": email}), None).await;
    let code = reset_code(&email).await;
    let user = reg["user"]["id"].as_str().unwrap();
    set_number(
        &s,
        &format!("USER#{user}"),
        "PASSWORD_RESET",
        "expires_at",
        common::time::now_secs() - 1,
    )
    .await;
    let r = s.reset_password(&email, &code, "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_reset_code");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_cannot_refresh() {
    let s = TestStack::start_with(false, false).await;
    let (_, reg) = s.register("employer").await;
    let keys = s.keys();
    let claims = keys
        .verify(reg["refresh_token"].as_str().unwrap(), common::token::TokenUse::Refresh)
        .unwrap();
    set_number(
        &s,
        &format!("USER#{}", claims.sub),
        &format!("SESSION#{}", claims.sid),
        "expires_at",
        common::time::now_secs() - 1,
    )
    .await;
    let r = s.post("/auth/refresh", json!({"refresh_token": reg["refresh_token"]}), None).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the token itself is still valid; the session is not: {r:?}"
    );
    assert_eq!(r.body["error"], "session_revoked");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lockout_lifts_when_the_window_passes() {
    let s = TestStack::start_with(false, false).await;
    let (email, _) = s.register("seeker").await;
    for _ in 0..5 {
        s.login(&email, "not the password at all").await;
    }
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Fifteen minutes and a second later (the failures of this address from this network):
    let (pk, sk) = auth::store::failures_key(s.running.app, &email, "127.0.0.1").unwrap();
    set_number(&s, &pk, &sk, "failure_window_start", common::time::now_secs() - 15 * 60 - 1).await;
    let r = s.login(&email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A success clears the count: four new failures do not lock.
    for _ in 0..4 {
        assert_eq!(s.login(&email, "not the password at all").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(s.login(&email, PASSWORD).await.status, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_refreshes_of_one_token_end_the_session() {
    let s = TestStack::start_with(false, false).await;
    let (_, reg) = s.register("seeker").await;
    let body = json!({"refresh_token": reg["refresh_token"]});
    let replies = futures::future::join_all((0..6).map(|_| s.post("/auth/refresh", body.clone(), None))).await;
    let ok: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert!(ok.len() <= 1, "one rotation at most: {replies:?}");
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK || r.status == StatusCode::UNAUTHORIZED),
        "{replies:?}"
    );
    // The same token was presented twice, so the session is over, including any token the
    // winner received.
    for r in ok {
        let again = s
            .post("/auth/refresh", json!({"refresh_token": r.body["refresh_token"]}), None)
            .await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{again:?}");
    }
    s.shutdown().await;
}
