//! Every protected route of template.yaml refuses requests without a valid access token.

use common::token::{Claims, Role, TokenKeys, TokenUse};
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// Routes anyone may call. Every other route in template.yaml must demand an access token.
const PUBLIC: &[&str] = &[
    "GET /openapi.json",
    "GET /docs",
    "GET /health",
    "POST /auth/email/verify",
    "GET /auth/email/verify",
    "POST /auth/email/resend",
    "GET /companies",
    "GET /companies/{id}",
    "GET /categories",
    "GET /categories/{slug}",
    "GET /profiles/{user_id}",
    "GET /jobs",
    "GET /jobs/featured",
    "GET /jobs/{id}",
    "GET /companies/{id}/jobs",
    "GET /categories/{slug}/jobs",
    "POST /auth/register",
    "POST /auth/login",
    "POST /auth/refresh",
    "POST /auth/password/forgot",
    "POST /auth/password/reset",
    "GET /search/jobs",
    "GET /search/suggest",
    "GET /search/companies",
    // The emailed one-click unsubscribe link: its sealed token is the credential.
    "GET /unsubscribe",
    "POST /unsubscribe",
    // Analytics from anyone: a token, when valid, only names the viewer.
    "POST /analytics/events",
    "POST /search/clicks",
];

/// Every route not public answers 401 in the error format to each kind of bad token; the
/// valid token works, so the refusals are about the tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protected_route_answers_401_to_bad_tokens() {
    let s = TestStack::start_with(false, false).await;
    let (_, reg) = s.register("seeker").await;
    let variants = bad_tokens(&s, &reg).await;
    let mut protected = 0;
    for (method, path, _) in &s.running.routes {
        if path == "$default" || PUBLIC.contains(&format!("{method} {path}").as_str()) {
            continue;
        }
        protected += 1;
        let url = concrete_path(path);
        let body = (method != "GET" && method != "DELETE").then(|| json!({}));
        for (what, token) in &variants {
            let r = s.send(method, &url, body.clone(), token.as_deref()).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path} with {what}: {r:?}");
            assert_error_body(&r);
        }
    }
    assert!(protected >= 3, "the matrix covered {protected} protected routes");
    assert_eq!(s.get("/auth/me", reg["access_token"].as_str()).await.status, StatusCode::OK);
    s.shutdown().await;
}

/// The kinds of bad token for the account of `reg`, named: none, expired, signed with
/// another key, a refresh token, another audience, garbage.
async fn bad_tokens(s: &TestStack, reg: &serde_json::Value) -> Vec<(&'static str, Option<String>)> {
    let keys = s.keys();
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();
    let now = common::time::now_secs();
    let expired = keys
        .sign(&Claims {
            iss: keys.issuer().into(),
            aud: keys.audience().into(),
            sub: user_id.clone(),
            iat: now - 3600,
            exp: now - 1800,
            jti: "j".into(),
            token_use: TokenUse::Access,
            sid: "s".into(),
            role: Some(Role::Seeker),
        })
        .unwrap();
    let foreign = TokenKeys::new(b"another key that is long enough!!", keys.issuer(), keys.audience())
        .unwrap()
        .access_token(&user_id, Role::Seeker, "s", now)
        .unwrap();
    let wrong_audience = TokenKeys::from_ring(&s.ring("signing").await, keys.issuer(), "someone-else")
        .unwrap()
        .access_token(&user_id, Role::Seeker, "s", now)
        .unwrap();
    vec![
        ("no token", None),
        ("expired", Some(expired)),
        ("signed with another key", Some(foreign)),
        (
            "refresh token as access token",
            Some(reg["refresh_token"].as_str().unwrap().to_string()),
        ),
        ("other audience", Some(wrong_audience)),
        ("garbage", Some("not-a-jwt".into())),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_get_the_error_body() {
    let s = TestStack::start_with(false, false).await;
    for (m, p) in [("GET", "/no/such/route"), ("DELETE", "/auth/login"), ("PUT", "/health")] {
        let r = s.send(m, p, None, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}");
        assert_error_body(&r);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_follows_the_template() {
    let s = TestStack::start_with(false, false).await;
    let r = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/auth/login", s.base))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    s.shutdown().await;
}
