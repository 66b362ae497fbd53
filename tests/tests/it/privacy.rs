//! Export and erasure: a user gets everything stored about them; after erasure a walk of
//! the whole table (and the bucket) finds none of their personal data.

use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PHONE: &str = "+49309876543";
const ADDRESS: &str = "Erasurestrasse 7, 10115 Berlin";
const BIO: &str = "Seasoned welder with a passion for bridges";
const NAME: &str = "Wilhelmina Forgetme";

/// Every item of the stack's table as JSON text.
async fn table_dump(s: &TestStack) -> Vec<String> {
    let ddb = aws_sdk_dynamodb::Client::new(s.sdk());
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(s.running.app.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let v: Value = serde_dynamo::from_item(item.clone()).unwrap();
            out.push(v.to_string());
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

/// Everything the platform stores about a person, exported; then erased, so that a walk of
/// the whole table and the bucket finds none of it, and the email is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_exports_everything_and_erasure_leaves_nothing_personal() {
    let s = TestStack::start_with(true, false).await;
    let admin = s.admin().await;
    let (email, reg) = step_a_seeker_with_a_full_record(&s, &admin).await;
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();
    let tok = token_of(&s.login(&email, PASSWORD).await.body);
    step_the_export_has_it_all(&s, &tok, &email).await;
    let before = table_dump(&s).await;
    assert!(before.iter().any(|i| i.contains(&email)), "the walk below can fail");
    assert!(before.iter().any(|i| i.contains(NAME)));
    step_erase_and_every_door_closes(&s, &tok, &email, &reg).await;
    step_the_walk_finds_nothing_personal(&s, &email, &user_id).await;
    // The email can be used again.
    let again = json!({"email": email, "password": PASSWORD, "role": "seeker", "full_name": "Someone Else"});
    assert_eq!(s.post("/auth/register", again, None).await.status, StatusCode::CREATED);
    s.shutdown().await;
}

/// A seeker with a full profile, a resume, a report, an idempotent registration and admin
/// actions on the account (suspended and reinstated); (email, registration reply).
async fn step_a_seeker_with_a_full_record(s: &TestStack, admin: &User<'_>) -> (String, Value) {
    let email = format!("{}@example.com", unique("forget"));
    let r = s
        .http
        .post(format!("{}/auth/register", s.base))
        .header("idempotency-key", "register-once")
        .json(&json!({"email": email, "password": PASSWORD, "role": "seeker", "full_name": NAME}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let reg: Value = r.json().await.unwrap();
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();
    let tok = token_of(&reg);
    let profile = json!({"phone": PHONE, "address": ADDRESS, "bio": BIO, "headline": "Welder", "visibility": "public"});
    let r = s.send("PATCH", "/me/profile", Some(profile), Some(&tok)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    attach_resume(s, &tok).await;
    let employer = s.employer().await;
    let company = employer.create_company("Bridges Inc").await;
    let job = employer
        .post_job(&company, &admin.create_category().await, json!({"title": "Welder"}))
        .await;
    let report = json!({"reason": "other", "details": format!("{NAME} says: fake")});
    assert_eq!(
        s.post(&format!("/jobs/{job}/reports"), report, Some(&tok)).await.status,
        StatusCode::CREATED
    );
    for status in ["suspended", "active"] {
        let r = admin
            .patch(&format!("/admin/users/{user_id}"), json!({"status": status, "reason": "check"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    (email, reg)
}

async fn step_the_export_has_it_all(s: &TestStack, tok: &str, email: &str) {
    let x = s.get("/me/export", Some(tok)).await;
    assert_eq!(x.status, StatusCode::OK, "{x:?}");
    let x = x.body;
    assert_eq!(x["account"]["email"], email);
    assert_eq!(x["account"]["full_name"], NAME);
    assert!(x["account"].get("password_hash").is_none());
    assert_eq!(x["profile"]["phone"], PHONE);
    assert_eq!(x["profile"]["address"], ADDRESS);
    assert_eq!(x["profile"]["bio"], BIO);
    assert!(!x["sessions"].as_array().unwrap().is_empty());
    assert!(x["sessions"][0].get("current_jti").is_none(), "no token material in an export");
    assert_eq!(x["reports"][0]["reason"], "other");
    assert_eq!(x["audit"].as_array().unwrap().len(), 2);
    assert!(x["resume_download_url"].is_string());
}

async fn step_erase_and_every_door_closes(s: &TestStack, tok: &str, email: &str, reg: &Value) {
    let user_id = reg["user"]["id"].as_str().unwrap();
    let refresh = reg["refresh_token"].as_str().unwrap();
    let r = s.send("DELETE", "/me", None, Some(tok)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert_eq!(s.login(email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let r = s.post("/auth/refresh", json!({"refresh_token": refresh}), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get("/me/export", Some(tok)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get("/me/profile", Some(tok)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get(&format!("/profiles/{user_id}"), None).await.status, StatusCode::NOT_FOUND);
}

/// Once the relay has published (and removed) the outbox items, no item holds the email,
/// name, phone, address, bio or report text; the id remains only in the redacted audit
/// entries; the files are gone from the bucket.
async fn step_the_walk_finds_nothing_personal(s: &TestStack, email: &str, user_id: &str) {
    let mut leftovers = Vec::new();
    for _ in 0..100 {
        leftovers = table_dump(s)
            .await
            .into_iter()
            .filter(|i| [email, NAME, PHONE, ADDRESS, BIO, user_id].iter().any(|p| i.contains(p)))
            .collect();
        if leftovers.iter().all(|i| i.contains("\"entity\":\"audit\"")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for item in &leftovers {
        let v: Value = serde_json::from_str(item).unwrap();
        assert_eq!(v["entity"], "audit", "personal data left in {item}");
        assert_eq!(v["before"], json!({"erased": true}), "{item}");
        assert_eq!(v["after"], json!({"erased": true}), "{item}");
        for p in [email, NAME, PHONE, ADDRESS, BIO] {
            assert!(!item.contains(p), "{p} in {item}");
        }
    }
    assert_eq!(leftovers.len(), 2, "the two admin actions stay, redacted");
    let s3 = devstack::provision::s3_client(s.sdk());
    let bucket = &s.running.stack.bucket_names["UploadsBucket"];
    let listed = s3.list_object_versions().bucket(bucket).send().await.unwrap();
    let keys: Vec<&str> = listed
        .versions()
        .iter()
        .filter_map(|v| v.key())
        .chain(listed.delete_markers().iter().filter_map(|m| m.key()))
        .collect();
    assert!(
        keys.iter().all(|k| !k.contains(user_id)),
        "files are deleted with every version: {keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_erase_accounts_and_it_is_audited() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin_token().await;
    let (_, employer) = s.register("employer").await;
    s.mark_verified(employer["user"]["id"].as_str().unwrap()).await;
    let id = employer["user"]["id"].as_str().unwrap().to_string();
    let etok = token_of(&employer);
    let company = s.post("/companies", json!({"name": "Left Behind"}), Some(&etok)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, seeker) = s.register("seeker").await;

    let path = format!("/admin/users/{id}");
    assert_eq!(
        s.send("DELETE", &path, None, Some(&token_of(&seeker))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.send("DELETE", &path, None, None).await.status, StatusCode::UNAUTHORIZED);
    let me = s.get("/auth/me", Some(&admin)).await.body["id"].as_str().unwrap().to_string();
    let r = s.send("DELETE", &format!("/admin/users/{me}"), None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "cannot_erase_self");

    assert_eq!(s.send("DELETE", &path, None, Some(&admin)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.send("DELETE", &path, None, Some(&admin)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/auth/me", Some(&etok)).await.status, StatusCode::UNAUTHORIZED);
    // The company stays (it is the company's), without the erased member.
    assert_eq!(s.get(&format!("/companies/{company}"), None).await.status, StatusCode::OK);
    assert_eq!(companies::membership(s.running.app, &id, &company).await.unwrap(), None);
    let dump = table_dump(&s).await;
    assert!(
        !dump.iter().any(|i| i.contains(&format!("MEMBER#{id}"))),
        "both sides of the membership are gone"
    );
    let users = s.get("/admin/users?role=employer", Some(&admin)).await.body;
    assert!(users["items"].as_array().unwrap().iter().all(|u| u["id"] != id.as_str()));
    let audit = s
        .get(&format!("/admin/audit?entity_type=user&entity_id={id}"), Some(&admin))
        .await
        .body;
    assert_eq!(audit["items"][0]["action"], "user.erased");
    assert_eq!(audit["items"][0]["before"]["role"], "employer");
    s.shutdown().await;
}
