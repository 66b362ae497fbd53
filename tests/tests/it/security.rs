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
    for (m, p) in [("GET", "/no/such/route"), ("POST", "/jobs/x/y/z"), ("GET", "/auth")] {
        let r = s.send(m, p, None, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}");
        assert_error_body(&r);
    }
    // A route the API has, with a method it does not take: 405 naming the ones it does.
    let job = format!("/jobs/{}", ulid::Ulid::new());
    for (m, p, allow) in [
        ("DELETE", "/auth/login", "POST"),
        ("PUT", "/health", "GET"),
        ("DELETE", "/jobs", "GET, POST"),
        ("PUT", job.as_str(), "DELETE, GET, PATCH"),
    ] {
        let r = s.send(m, p, None, None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}: {r:?}");
        assert_eq!(r.headers["allow"], allow, "{m} {p}");
        assert_eq!(r.body["error"], "method_not_allowed");
        assert_error_body(&r);
    }
    s.shutdown().await;
}

async fn preflight(s: &TestStack, origin: &str) -> reqwest::Response {
    s.http
        .request(reqwest::Method::OPTIONS, format!("{}/auth/login", s.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_the_listed_origins_only_and_never_credentials() {
    let t = devstack::template::Template::load(&devstack::default_template()).unwrap();
    let cors = t.cors.clone().expect("the HTTP API has a CORS configuration");
    assert!(
        !cors.allow_credentials,
        "tokens are headers: no credentials, so `*` is never paired with them"
    );
    assert_eq!(t.parameters["CorsAllowedOrigins"].as_deref(), Some("https://app.jobs.example.com"));

    let s = TestStack::start_with(false, false).await;
    let r = preflight(&s, "https://app.jobs.example.com").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["access-control-allow-origin"], "https://app.jobs.example.com");
    assert!(r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    assert!(r.headers().get("access-control-allow-credentials").is_none());
    let r = preflight(&s, "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none(), "{:?}", r.headers());
    s.shutdown().await;

    // `make dev` allows any origin (a parameter, as deployed).
    let s = TestStack::start_with_params(&[("CorsAllowedOrigins", "*")]).await;
    assert_eq!(
        preflight(&s, "http://localhost:5173").await.headers()["access-control-allow-origin"],
        "*"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reply_carries_the_security_headers_and_authenticated_ones_are_never_cached() {
    let s = TestStack::start_with(false, false).await;
    let ada = s.seeker().await;
    let cases = [
        ("GET", "/health", None),
        ("GET", "/openapi.json", None),
        ("GET", "/openapi.json", Some(ada.token.as_str())),
        ("GET", "/auth/me", Some(ada.token.as_str())),
        ("GET", "/auth/me", None),
        ("GET", "/no/such/route", None),
        ("POST", "/auth/login", None),
    ];
    for (method, path, token) in cases {
        let r = s.send(method, path, (method == "POST").then(|| json!({})), token).await;
        let h = |n: &str| r.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert_eq!(
            h("strict-transport-security"),
            "max-age=31536000; includeSubDomains",
            "{method} {path}"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{method} {path}");
        assert_eq!(h("x-frame-options"), "DENY", "{method} {path}");
        if token.is_some() {
            assert_eq!(h("cache-control"), "no-store", "{method} {path} with a token");
        }
    }
    // The public document stays cacheable for anonymous callers.
    let r = s.get("/openapi.json", None).await;
    assert_eq!(r.headers["cache-control"], "public, max-age=300");
    s.shutdown().await;
}
