//! Bad input on every route with a body: a clear 4xx with the error body, never a 500.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// Every route with a body, for every role, answers every kind of bad body with a 4xx in
/// the error format; the roles allowed on the route get the status that names the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_wrong_missing_and_oversized_bodies_are_4xx() {
    let s = TestStack::start_with(false, false).await;
    let tokens = s.tokens_of_every_role().await;
    let mut routes = 0;
    for (method, path, _) in &s.running.routes {
        if matches!(method.as_str(), "POST" | "PUT" | "PATCH") && !NO_JSON_BODY.contains(&format!("{method} {path}").as_str()) {
            routes += 1;
            for (what, body) in bad_bodies() {
                step_every_role_gets_a_4xx(&s, &tokens, method, path, what, body).await;
            }
        }
    }
    assert!(routes >= 10, "covered {routes} routes with bodies");
    s.shutdown().await;
}

/// POST routes that read no body: the one-click unsubscribe (RFC 8058 clients post
/// `List-Unsubscribe=One-Click` as a form; the token is in the URL), the read marks and
/// the answers to invitations.
const NO_JSON_BODY: &[&str] = &[
    "POST /unsubscribe",
    "POST /me/notifications/{id}/read",
    "POST /me/notifications/read-all",
    "POST /me/invitations/{id}/accept",
    "POST /me/invitations/{id}/decline",
];

/// The kinds of bad body, named.
fn bad_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let wrong_types = json!({
        "email": 5, "password": ["x"], "role": 7, "full_name": {"a": 1}, "refresh_token": 1,
        "current_password": true, "new_password": 3, "code": [], "remember_me": "yes",
        "name": 5, "description": [], "website": 1, "location": "here", "size": "huge", "industry": 2, "active": "no"
    })
    .to_string();
    let oversized = format!("{{\"email\": \"{}\"}}", "a".repeat(200 * 1024));
    vec![
        ("malformed JSON", b"{\"email\": ".to_vec()),
        ("not JSON", b"email=a@b.co".to_vec()),
        ("a JSON array", b"[1, 2, 3]".to_vec()),
        ("a JSON string", b"\"hello\"".to_vec()),
        ("empty body", Vec::new()),
        ("missing fields", b"{}".to_vec()),
        ("wrong types", wrong_types.into_bytes()),
        ("unknown fields", b"{\"is_admin\": true}".to_vec()),
        ("oversized", oversized.into_bytes()),
        ("invalid UTF-8", vec![b'{', 0xff, 0xfe, b'}']),
        ("null", b"null".to_vec()),
    ]
}

async fn step_every_role_gets_a_4xx(s: &TestStack, tokens: &[(&str, String)], method: &str, path: &str, what: &str, body: Vec<u8>) {
    let url = concrete_path(path);
    // A PATCH body is partial: `{}` changes nothing and may succeed.
    let empty_patch = what == "missing fields" && method == "PATCH";
    let mut permitted = Vec::new();
    for (role, token) in tokens {
        let r = s
            .send_raw(method, &url, body.clone(), Some(token), &[("content-type", "application/json")])
            .await;
        if empty_patch && r.status.is_success() {
            continue;
        }
        assert!(r.status.is_client_error(), "{method} {path} as {role} with {what}: {r:?}");
        assert_error_body(&r);
        if r.status != StatusCode::FORBIDDEN {
            permitted.push(r);
        }
    }
    if permitted.is_empty() && empty_patch {
        return;
    }
    assert!(!permitted.is_empty(), "{method} {path}: no role may call it");
    let expected: &[StatusCode] = match what {
        "oversized" => &[StatusCode::PAYLOAD_TOO_LARGE],
        "wrong types" | "unknown fields" => &[StatusCode::UNPROCESSABLE_ENTITY],
        // Routes whose fields are all optional accept `{}` and then look for the resource.
        "missing fields" => &[StatusCode::UNPROCESSABLE_ENTITY, StatusCode::NOT_FOUND],
        _ => &[StatusCode::BAD_REQUEST],
    };
    for r in permitted {
        assert!(expected.contains(&r.status), "{method} {path} with {what}: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_problems_are_named() {
    let s = TestStack::start_with(false, false).await;
    let r = s
        .post(
            "/auth/register",
            json!({"email": "nope", "password": "short", "role": "seeker", "full_name": "x".repeat(101)}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["email", "password", "full_name"] {
        assert!(r.body["details"][f].is_array(), "{f}: {r:?}");
    }
    assert!(r.body["details"].get("role").is_none());
    let r = s
        .post(
            "/auth/register",
            json!({"email": "a@b.co", "password": "p".repeat(129), "role": "seeker", "full_name": "X"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(
            "/auth/register",
            json!({"email": "a@b.co", "password": "Password123", "role": "seeker", "full_name": "X"}),
            None,
        )
        .await;
    assert!(r.body["details"]["password"][0].as_str().unwrap().contains("common"));
    s.shutdown().await;
}
