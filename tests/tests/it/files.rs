//! Uploads end to end: presigned URLs from the API, the upload straight to S3 (the
//! stand-in), the S3 notification delivered by the local stack to the checking function, and
//! what the profile and GET /me/resume show afterwards.

use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use files::samples::{docx, pdf, png};

async fn upload(s: &TestStack, tok: &str, route: &str, content_type: &str, declared: usize, bytes: Vec<u8>) -> Value {
    let r = s
        .post(route, json!({"content_type": content_type, "size_bytes": declared}), Some(tok))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let ticket = r.body;
    assert_eq!(ticket["method"], "PUT");
    let mut put = s.http.put(ticket["upload_url"].as_str().unwrap()).body(bytes);
    for (k, v) in ticket["headers"].as_object().unwrap() {
        put = put.header(k, v.as_str().unwrap());
    }
    let resp = put.send().await.unwrap();
    assert!(resp.status().is_success(), "upload to S3: {}", resp.status());
    ticket
}

/// The profile once the upload `upload_id` of `kind` is decided.
async fn decided(s: &TestStack, tok: &str, kind: &str, upload_id: &str) -> Value {
    for _ in 0..100 {
        let p = s.get("/me/profile", Some(tok)).await.body;
        let last = &p[kind]["last_upload"];
        if last["upload_id"] == upload_id && last["state"] != "pending" {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{kind} upload {upload_id} was never checked");
}

/// Every key under `prefix` with any version or delete marker left (the bucket is
/// versioned: a file the platform deletes must be gone with all its versions).
async fn keys_under(s: &TestStack, prefix: &str) -> Vec<String> {
    let s3 = devstack::provision::s3_client(s.sdk());
    let bucket = &s.running.stack.bucket_names["UploadsBucket"];
    let out = s3.list_object_versions().bucket(bucket).prefix(prefix).send().await.unwrap();
    let versions = out.versions().iter().filter_map(|o| o.key());
    let markers = out.delete_markers().iter().filter_map(|o| o.key());
    let mut keys: Vec<String> = versions.chain(markers).map(str::to_string).collect();
    keys.sort();
    keys.dedup();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_are_checked_by_content_before_they_are_attached() {
    let s = TestStack::start_with(false, false).await;
    let (_, seeker) = s.register("seeker").await;
    let user_id = seeker["user"]["id"].as_str().unwrap().to_string();
    let tok = token_of(&seeker);
    assert_eq!(s.get("/me/resume", Some(&tok)).await.status, StatusCode::NOT_FOUND);

    // A real PDF: attached, downloadable, byte for byte.
    let file = pdf();
    let t = upload(&s, &tok, "/me/resume", "application/pdf", file.len(), file.clone()).await;
    assert_eq!(t["max_bytes"], 10 * 1024 * 1024);
    let p = decided(&s, &tok, "resume", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["resume"]["last_upload"]["state"], "ready", "{p}");
    assert_eq!(p["resume"]["current"]["content_type"], "application/pdf");
    assert_eq!(p["resume"]["current"]["size_bytes"], file.len());
    assert!(p["resume"]["current"].get("key").is_none(), "storage keys stay inside");
    let d = s.get("/me/resume", Some(&tok)).await;
    assert_eq!(d.status, StatusCode::OK, "{d:?}");
    let got = s.http.get(d.body["download_url"].as_str().unwrap()).send().await.unwrap();
    assert!(got.status().is_success());
    assert_eq!(got.bytes().await.unwrap().to_vec(), file);

    // A PNG renamed to .pdf (and declared as PDF): refused, deleted, the PDF stays.
    let t = upload(&s, &tok, "/me/resume", "application/pdf", png().len(), png()).await;
    let p = decided(&s, &tok, "resume", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["resume"]["last_upload"]["state"], "rejected");
    let reason = p["resume"]["last_upload"]["reason"].as_str().unwrap();
    assert!(reason.contains("PNG"), "{reason}");
    assert_eq!(p["resume"]["current"]["size_bytes"], file.len(), "the good resume stays attached");

    // Checked by its whole structure, not its first bytes: a file that only starts like a
    // PDF, and a PDF cut short, are refused; a Word document (an OOXML package) is taken.
    let mut cut = pdf();
    cut.truncate(cut.len() / 2);
    for bad in [b"%PDF-1.7\n<script>alert(1)</script>\n%%EOF\n".to_vec(), cut] {
        let t = upload(&s, &tok, "/me/resume", "application/pdf", bad.len(), bad).await;
        let p = decided(&s, &tok, "resume", t["upload_id"].as_str().unwrap()).await;
        assert_eq!(p["resume"]["last_upload"]["state"], "rejected", "{p}");
        assert!(p["resume"]["last_upload"]["reason"].as_str().unwrap().contains("damaged"), "{p}");
        assert_eq!(p["resume"]["current"]["size_bytes"], file.len(), "the good resume stays attached");
    }
    const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let t = upload(&s, &tok, "/me/resume", DOCX, docx().len(), docx()).await;
    let p = decided(&s, &tok, "resume", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["resume"]["last_upload"]["state"], "ready", "{p}");
    assert_eq!(p["resume"]["current"]["content_type"], DOCX);

    // Larger than 10 MB, whatever the client declared: refused.
    let mut big = pdf();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let t = upload(&s, &tok, "/me/resume", "application/pdf", 1000, big).await;
    let p = decided(&s, &tok, "resume", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["resume"]["last_upload"]["state"], "rejected");
    assert!(p["resume"]["last_upload"]["reason"].as_str().unwrap().contains("10 MB"));

    // A second good resume replaces the first; nothing unchecked or replaced is left in S3.
    let t = upload(&s, &tok, "/me/resume", "application/pdf", file.len(), file.clone()).await;
    let p = decided(&s, &tok, "resume", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["resume"]["last_upload"]["state"], "ready");
    // The check records the outcome, then removes the incoming and the replaced object.
    let want = vec![format!("files/resume/{user_id}/{}.pdf", t["upload_id"].as_str().unwrap())];
    let mut stored = Vec::new();
    for _ in 0..50 {
        stored = keys_under(&s, &format!("files/resume/{user_id}/")).await;
        if stored == want && keys_under(&s, "incoming/").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(keys_under(&s, "incoming/").await.is_empty());
    assert_eq!(stored, want);
    s.shutdown().await;
}

/// Upload requests are checked (type, size, who may have a resume); avatars of any role are
/// checked by content and then shown, on public profiles too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_requests_are_checked_and_avatars_show_on_profiles() {
    let s = TestStack::start_with(false, false).await;
    let (seeker, employer) = (s.seeker().await, s.employer().await);
    step_upload_requests_are_checked(&s, &seeker, &employer).await;
    step_avatars_are_checked_by_content(&s, &seeker, &employer).await;
    step_public_profiles_show_the_avatar(&s, &seeker).await;
    s.shutdown().await;
}

async fn step_upload_requests_are_checked(s: &TestStack, seeker: &User<'_>, employer: &User<'_>) {
    for (body, field) in [
        (json!({"content_type": "image/png", "size_bytes": 100}), "content_type"),
        // Exactly the media type, as the upload will send it: no parameters, lower case.
        (json!({"content_type": "Application/PDF", "size_bytes": 100}), "content_type"),
        (
            json!({"content_type": "application/pdf; charset=binary", "size_bytes": 100}),
            "content_type",
        ),
        (
            json!({"content_type": "application/pdf", "size_bytes": 10 * 1024 * 1024 + 1}),
            "size_bytes",
        ),
        (json!({"content_type": "application/pdf", "size_bytes": 0}), "size_bytes"),
    ] {
        let r = seeker.post("/me/resume", body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert!(r.body["details"][field].is_array(), "{r:?}");
    }
    let r = seeker
        .post("/me/avatar", json!({"content_type": "image/gif", "size_bytes": 100}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = employer
        .post("/me/resume", json!({"content_type": "application/pdf", "size_bytes": 100}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "employers have no resume");
    assert_eq!(employer.get("/me/resume").await.status, StatusCode::FORBIDDEN);
    let r = s
        .post("/me/avatar", json!({"content_type": "image/png", "size_bytes": 100}), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// An avatar (any role) is attached and downloadable; a PDF posing as an image is refused.
async fn step_avatars_are_checked_by_content(s: &TestStack, seeker: &User<'_>, employer: &User<'_>) {
    let t = upload(s, &employer.token, "/me/avatar", "image/png", png().len(), png()).await;
    let p = decided(s, &employer.token, "avatar", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["avatar"]["last_upload"]["state"], "ready");
    assert_eq!(p["avatar"]["current"]["content_type"], "image/png");
    let url = p["avatar_url"].as_str().unwrap();
    assert_eq!(s.http.get(url).send().await.unwrap().bytes().await.unwrap().to_vec(), png());
    let t = upload(s, &seeker.token, "/me/avatar", "image/jpeg", 100, pdf()).await;
    let p = decided(s, &seeker.token, "avatar", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["avatar"]["last_upload"]["state"], "rejected");
    assert!(p["avatar_url"].is_null());
    // An image must decode: a PNG cut short is refused.
    let mut cut = png();
    cut.truncate(cut.len() - 16);
    let t = upload(s, &seeker.token, "/me/avatar", "image/png", cut.len(), cut).await;
    let p = decided(s, &seeker.token, "avatar", t["upload_id"].as_str().unwrap()).await;
    assert_eq!(p["avatar"]["last_upload"]["state"], "rejected", "{p}");
    assert!(p["avatar"]["last_upload"]["reason"].as_str().unwrap().contains("damaged"), "{p}");
    assert!(p["avatar_url"].is_null());
}

async fn step_public_profiles_show_the_avatar(s: &TestStack, seeker: &User<'_>) {
    let t = upload(s, &seeker.token, "/me/avatar", "image/png", png().len(), png()).await;
    decided(s, &seeker.token, "avatar", t["upload_id"].as_str().unwrap()).await;
    seeker.patch("/me/profile", json!({"visibility": "public"})).await;
    let public = s.get(&format!("/profiles/{}", seeker.id), None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(
        public.body["avatar_url"].as_str().is_some_and(|u| u.contains("files/avatar/")),
        "{public:?}"
    );
}
