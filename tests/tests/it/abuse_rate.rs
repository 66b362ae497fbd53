//! Rate limits with small budgets: per IP for anonymous calls, per account for signed-in
//! ones, per route for sensitive routes; the headers; the window's reset; one caller's flood
//! does not limit another; a caller over its budget costs no more writes.

use std::time::Duration;

use devstack::template::{FunctionEvent, Template};
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

const WINDOW: u64 = 8;

fn header(r: &Reply, name: &str) -> String {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Sleeps until a new window has just begun (so a test step fits in one).
async fn next_window() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let into = now.as_millis() as u64 % (WINDOW * 1000);
    tokio::time::sleep(Duration::from_millis(WINDOW * 1000 - into + 50)).await;
}

fn assert_limited(r: &Reply, policy: &str, limit: u64) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_error_body(r);
    assert_eq!(r.body["error"], "rate_limited");
    assert_eq!(r.body["details"]["policy"], policy);
    assert_eq!(r.body["details"]["limit"], limit);
    let retry: u64 = header(r, "retry-after").parse().expect("Retry-After");
    assert!((1..=WINDOW).contains(&retry), "{retry}");
    assert!(header(r, "ratelimit").contains(";r=0;"), "{}", header(r, "ratelimit"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_budget_holds_resets_and_limits_only_its_caller() {
    let window = WINDOW.to_string();
    let s = TestStack::start_with_params(&[
        ("RateLimitWindowSeconds", window.as_str()),
        ("RateLimitAnonymous", "6"),
        ("RateLimitSignedIn", "8"),
        ("RateLimitRoutes", "POST /auth/login=3"),
    ])
    .await;
    let (ada, bob) = (s.seeker().await, s.seeker().await);

    // Anonymous: 6 per IP, the headers count down, the 7th is refused.
    next_window().await;
    for left in (0..6).rev() {
        let r = s.get("/categories", None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(header(&r, "ratelimit-policy"), format!("\"anonymous\";q=6;w={WINDOW}"));
        assert!(
            header(&r, "ratelimit").starts_with(&format!("\"anonymous\";r={left};t=")),
            "{}",
            header(&r, "ratelimit")
        );
    }
    let r = s.get("/categories", None).await;
    assert_limited(&r, "anonymous", 6);
    // A caller over its budget is refused from memory: no more writes to its counter.
    let (app, keys) = (s.running.app, s.keys());
    let counters = |caller: common::ratelimit::Caller| {
        let key = caller.key(&keys);
        async move {
            common::db::query_all(app, None, format!("RATE#{key}"), None)
                .await
                .unwrap()
                .iter()
                .map(|i| common::db::get_n(i, "all").unwrap_or(0))
                .max()
                .unwrap_or(0)
        }
    };
    let before = counters(common::ratelimit::Caller::Ip("127.0.0.1".into())).await;
    for _ in 0..5 {
        assert_eq!(s.get("/categories", None).await.status, StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        counters(common::ratelimit::Caller::Ip("127.0.0.1".into())).await,
        before,
        "no writes while over"
    );
    // The same address signed in is another caller.
    let r = ada.get("/me/profile").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(header(&r, "ratelimit-policy").starts_with("\"signed_in\";q=8"));

    // The window passes: the budget is back.
    next_window().await;
    assert_eq!(s.get("/categories", None).await.status, StatusCode::OK);
    // A sensitive route has its own, tighter budget (both policies in the headers).
    for _ in 0..3 {
        let r = s
            .post("/auth/login", json!({"email": ada.email, "password": "not it at all"}), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
        assert_eq!(
            header(&r, "ratelimit-policy"),
            format!("\"anonymous\";q=6;w={WINDOW}, \"POST /auth/login\";q=3;w={WINDOW}")
        );
    }
    let r = s.post("/auth/login", json!({"email": ada.email, "password": PASSWORD}), None).await;
    assert_limited(&r, "POST /auth/login", 3);
    // Other routes still answer within the anonymous budget.
    assert_eq!(s.get("/categories", None).await.status, StatusCode::OK);

    // Signed-in: 8 per account; Ada's flood leaves Bob alone.
    next_window().await;
    for _ in 0..8 {
        assert_eq!(ada.get("/me/notifications").await.status, StatusCode::OK);
    }
    assert_limited(&ada.get("/me/notifications").await, "signed_in", 8);
    let r = bob.get("/me/notifications").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(header(&r, "ratelimit").starts_with("\"signed_in\";r=7;"));
    // Health checks are outside every budget.
    let r = s.get("/health", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get("ratelimit").is_none());
    s.shutdown().await;
}

#[test]
fn every_counted_route_may_write_its_counter_and_budgets_name_real_routes() {
    let t = Template::load(&devstack::default_template()).unwrap();
    let mut routes = Vec::new();
    for f in t.functions().unwrap() {
        let http: Vec<_> = f
            .events
            .iter()
            .filter_map(|e| match e {
                FunctionEvent::Http { method, path } => Some(format!("{method} {path}")),
                _ => None,
            })
            .collect();
        let unlimited = http.iter().all(|r| {
            let key = r.strip_prefix("ANY ").filter(|p| *p == "$default").unwrap_or(r);
            common::http::UNLIMITED.contains(&key)
        });
        let policies = serde_yaml::to_string(&t.resources[&f.logical_id].properties["Policies"]).unwrap_or_default();
        if http.is_empty() || unlimited {
            // Routes outside every budget write no counter.
            assert!(!policies.contains("RateLimitCounterPolicy"), "{}", f.logical_id);
            continue;
        }
        routes.extend(http);
        assert!(
            policies.contains("RateLimitCounterPolicy"),
            "{}: cannot count its callers",
            f.logical_id
        );
    }
    let defaults = t.parameters["RateLimitRoutes"].clone().unwrap();
    for route in common::ratelimit::parse_routes(&defaults).unwrap().keys() {
        assert!(routes.contains(route), "RateLimitRoutes names {route}, which is no route");
    }
    assert_eq!(t.parameters["RateLimitAnonymous"].as_deref(), Some("100"));
    assert_eq!(t.parameters["RateLimitSignedIn"].as_deref(), Some("1000"));
}
