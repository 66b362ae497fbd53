//! Found tried as an attacker would: bodies that are not JSON, single-line fields with line
//! breaks or hidden characters, links that carry markup, and routes of one role reached by
//! another.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// A form or `text/plain` body (what another site's page can post without a preflight) is
/// 415 `unsupported_media_type` before any handler reads it; JSON with a charset is fine,
/// and so is the one-click unsubscribe's form (RFC 8058).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_must_be_json() {
    let s = TestStack::start_with(false, false).await;
    let seeker = s.seeker().await;
    let body = json!({"headline": "Plain text"}).to_string().into_bytes();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
    ] {
        let headers: Vec<(&str, &str)> = content_type.iter().map(|c| ("content-type", *c)).collect();
        let r = s
            .send_raw("PATCH", "/me/profile", body.clone(), Some(&seeker.token), &headers)
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}: {r:?}");
        assert_eq!(r.body["error"], "unsupported_media_type");
        assert_error_body(&r);
        let r = s
            .send_raw(
                "POST",
                "/auth/login",
                br#"{"email":"a@b.co","password":"x"}"#.to_vec(),
                None,
                &headers,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "login {content_type:?}: {r:?}");
    }
    assert_eq!(
        seeker.get("/me/profile").await.body["headline"],
        serde_json::Value::Null,
        "nothing was written"
    );
    let headers = [("content-type", "Application/JSON; charset=utf-8")];
    let r = s.send_raw("PATCH", "/me/profile", body, Some(&seeker.token), &headers).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // The one-click unsubscribe takes its form; a bad token is still its own 4xx, not a 415.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let r = s
        .send_raw(
            "POST",
            "/unsubscribe?token=nope",
            b"List-Unsubscribe=One-Click".to_vec(),
            None,
            &form,
        )
        .await;
    assert_ne!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{r:?}");
    assert!(r.status.is_client_error(), "{r:?}");
    s.shutdown().await;
}

/// LF, CR, U+2028/2029, controls, bidi overrides and zero-width characters in a single-line
/// field are 422 naming the field; multi-line fields keep their line breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_line_fields_refuse_line_breaks_and_hidden_characters() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let owner = s.employer().await;
    let company = owner.create_company("Line Co").await;
    let category = admin.create_category().await;
    let seeker = s.seeker().await;
    for bad in [
        "Engineer\nBcc: victim@example.com",
        "a\rb",
        "a\u{2028}b",
        "a\u{202E}b",
        "a\u{200B}b",
        "a\u{85}b",
    ] {
        let r = owner.post("/jobs", job_body(&company, &category, json!({"title": bad}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {r:?}");
        assert!(r.body["details"]["title"].is_array(), "{r:?}");
        let r = owner.post("/companies", json!({"name": bad})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {r:?}");
        assert!(r.body["details"]["name"].is_array(), "{r:?}");
        let r = seeker
            .patch("/me/profile", json!({"headline": bad, "full_name": "Fine Name"}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {r:?}");
        assert!(r.body["details"]["headline"].is_array(), "{r:?}");
        let r = seeker.patch("/me/profile", json!({"full_name": bad})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {r:?}");
        let r = seeker
            .post("/me/saved-searches", json!({"name": bad, "query": {"q": "rust"}}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {r:?}");
        let r = admin.post("/categories", json!({"name": bad})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {r:?}");
    }
    let r = owner
        .post(
            "/jobs",
            job_body(&company, &category, json!({"description": "Line one.\nLine two."})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "a description keeps its lines: {r:?}");
    s.shutdown().await;
}

/// Employer-only routes answer 403 to seekers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seekers_have_no_company_invitations() {
    let s = TestStack::start_with(false, false).await;
    let seeker = s.seeker().await;
    let r = seeker.get("/me/invitations").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_error_body(&r);
    let r = seeker
        .post(&format!("/me/invitations/{}/decline", ulid::Ulid::new()), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    s.shutdown().await;
}

/// Links in companies and profiles are parsed as a browser parses them: characters outside
/// RFC 3986 are refused (no markup rides in on a link), and what is stored is the
/// normalised form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_urls_and_stored_normalised() {
    let s = TestStack::start_with(false, false).await;
    let owner = s.employer().await;
    let seeker = s.seeker().await;
    let company = owner.create_company("Links Co").await;
    let path = format!("/companies/{company}");
    for bad in [
        "https://example.com/\"><script>alert(1)</script>",
        "https://example.com/<img>",
        "https://example.com/a{b}",
        "https://example.com/100%",
    ] {
        let r = owner.patch(&path, json!({"website": bad})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
        assert!(r.body["details"]["website"].is_array(), "{r:?}");
        let r = seeker.patch("/me/profile", json!({"links": {"linkedin": bad}})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
    }
    let r = owner
        .patch(&path, json!({"website": "https://Careers.Example.com/a/../Jobs?x=1"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["website"], "https://careers.example.com/Jobs?x=1");
    assert_eq!(owner.get(&path).await.body["website"], "https://careers.example.com/Jobs?x=1");
    let r = seeker
        .patch("/me/profile", json!({"links": {"github": "https://GitHub.com/ann"}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["links"]["github"], "https://github.com/ann");
    s.shutdown().await;
}
