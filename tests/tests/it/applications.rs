//! Applications end to end through the local gateway: applying, the whole hiring pipeline
//! with an interview, illegal moves, races, the IDOR matrix, and the events reaching the
//! notifications consumer.

use std::time::Duration;

use futures::future::join_all;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};


struct World {
    admin: String,
    employer: String,
    company: String,
    slug: String,
}

async fn world(s: &TestStack) -> World {
    let admin = s.admin_token().await;
    let (_, e) = s.register("employer").await;
    let employer = token_of(&e);
    let company = s.post("/companies", json!({"name": "Hiring Co"}), Some(&employer)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let slug = s.post("/categories", json!({"name": "Engineering"}), Some(&admin)).await.body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    World {
        admin,
        employer,
        company,
        slug,
    }
}

async fn job(s: &TestStack, w: &World, extra: Value) -> String {
    let r = s.post("/jobs", job_body(&w.company, &w.slug, extra), Some(&w.employer)).await;
    id_of(&r)
}

async fn patch(s: &TestStack, path: &str, body: Value, tok: &str) -> Reply {
    s.send("PATCH", path, Some(body), Some(tok)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeker_applies_and_the_company_walks_the_whole_pipeline_to_hired() {
    let s = TestStack::start().await;
    let w = world(&s).await;
    let job_id = job(&s, &w, json!({})).await;
    let (seeker_email, seeker) = s.register("seeker").await;
    let stok = token_of(&seeker);
    let seeker_id = seeker["user"]["id"].as_str().unwrap().to_string();
    patch(&s, "/me/profile", json!({"headline": "Rustacean", "skills": ["Rust"]}), &stok).await;
    attach_resume(&s, &stok).await;
    let (_, other) = s.register("employer").await;
    let otok = token_of(&other);
    s.post("/companies", json!({"name": "Other Co"}), Some(&otok)).await;
    assert_eq!(
        s.get(&format!("/profiles/{seeker_id}"), Some(&w.employer)).await.status,
        StatusCode::NOT_FOUND,
        "private until applying"
    );

    let r = s
        .post(
            &format!("/jobs/{job_id}/applications"),
            json!({"cover_letter": "I would love to.", "resume": "profile"}),
            Some(&stok),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let a = r.body;
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["job_title"], "Backend engineer");
    assert_eq!(a["applicant"]["headline"], "Rustacean");
    assert!(a["resume_url"].is_string());
    let pdf = s
        .http
        .get(a["resume_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    // The company sees the applicant, their (private) profile and the application.
    assert_eq!(
        s.get(&format!("/profiles/{seeker_id}"), Some(&w.employer)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/profiles/{seeker_id}"), Some(&otok)).await.status,
        StatusCode::NOT_FOUND
    );
    let listed = s.get(&format!("/jobs/{job_id}/applications"), Some(&w.employer)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["applicant"]["user_id"], seeker_id.as_str());

    let path = format!("/applications/{id}");
    let mv = |to: &str, note: Option<&str>| {
        let body = match note {
            Some(n) => json!({"status": to, "note": n}),
            None => json!({"status": to}),
        };
        let p = format!("{path}/status");
        let t = w.employer.clone();
        let s = &s;
        async move { s.send("PATCH", &p, Some(body), Some(&t)).await }
    };
    assert_eq!(mv("reviewed", Some("Strong CV, weak on Kubernetes")).await.status, StatusCode::OK);
    assert_eq!(mv("shortlisted", None).await.status, StatusCode::OK);

    // An interview moves a shortlisted application to interviewing.
    let soon = common::time::rfc3339(common::time::now_secs() + 86_400);
    let r = s
        .post(
            &format!("{path}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 45, "kind": "video", "meeting_url": "https://meet.example/abc"}),
            Some(&w.employer),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let iv = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&path, Some(&stok)).await.body["status"], "interviewing");
    let later = common::time::rfc3339(common::time::now_secs() + 2 * 86_400);
    let r = patch(&s, &format!("/interviews/{iv}"), json!({"scheduled_at": later}), &w.employer).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["scheduled_at"], later.as_str());
    let r = patch(&s, &format!("/interviews/{iv}"), json!({"status": "completed"}), &w.employer).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a rating is required");
    let r = patch(
        &s,
        &format!("/interviews/{iv}"),
        json!({"status": "completed", "feedback": "Great systems thinking", "rating": "strong_yes"}),
        &w.employer,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        patch(&s, &format!("/interviews/{iv}"), json!({"status": "cancelled"}), &w.employer)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let seen = s.get(&format!("{path}/interviews"), Some(&stok)).await.body;
    assert_eq!(seen["items"][0]["kind"], "video");
    assert!(
        seen["items"][0]["feedback"].is_null() && seen["items"][0]["rating"].is_null(),
        "{seen}"
    );
    let company_seen = s.get(&format!("{path}/interviews"), Some(&w.employer)).await.body;
    assert_eq!(company_seen["items"][0]["rating"], "strong_yes");

    assert_eq!(mv("offered", None).await.status, StatusCode::OK);
    assert_eq!(mv("hired", Some("Start in March")).await.status, StatusCode::OK);
    // Final: nothing moves any more.
    let r = mv("rejected", None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["details"]["allowed"], json!([]));
    assert_eq!(s.send("DELETE", &path, None, Some(&stok)).await.status, StatusCode::CONFLICT);

    // History: every move with actor and time; notes only for the company.
    let h = s.get(&format!("{path}/history"), Some(&w.employer)).await.body;
    let to: Vec<&str> = h["items"].as_array().unwrap().iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(to, ["submitted", "reviewed", "shortlisted", "interviewing", "offered", "hired"]);
    assert_eq!(h["items"][1]["note"], "Strong CV, weak on Kubernetes");
    assert!(h["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor_id"].is_string() && e["at"].is_string()));
    let h = s.get(&format!("{path}/history"), Some(&stok)).await.body;
    assert!(h["items"].as_array().unwrap().iter().all(|e| e.get("note").is_none()), "{h}");

    // Lists and stats.
    let mine = s.get("/me/applications", Some(&stok)).await.body;
    assert_eq!(mine["items"][0]["status"], "hired");
    let hired = s
        .get(&format!("/jobs/{job_id}/applications?status=hired"), Some(&w.employer))
        .await
        .body;
    assert_eq!(hired["items"].as_array().unwrap().len(), 1);
    let none = s
        .get(&format!("/jobs/{job_id}/applications?status=submitted"), Some(&w.employer))
        .await
        .body;
    assert!(none["items"].as_array().unwrap().is_empty());
    let st = s.get("/me/stats", Some(&stok)).await.body;
    assert_eq!(st["applications"]["total"], 1);
    assert_eq!(st["applications"]["by_status"]["hired"], 1);
    assert_eq!(st["applications"]["by_status"]["submitted"], 0);
    let st = s.get("/me/stats", Some(&w.employer)).await.body;
    assert_eq!(st["jobs"]["total"], 1);
    assert_eq!(st["jobs"]["by_status"]["published"], 1);
    assert_eq!(st["applicants"]["total"], 1);
    assert_eq!(st["applicants"]["by_status"]["hired"], 1);

    // The applicant hears about it (events -> SNS -> queue -> notifications consumer).
    let mail = wait_for_email(&seeker_email, "Your application", Duration::from_secs(20)).await;
    assert!(mail.to_string().contains("Backend engineer"), "{mail}");
    let _ = w.admin;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_follow_the_rules() {
    let s = TestStack::start_with(false, false).await;
    let w = world(&s).await;
    let open = job(&s, &w, json!({})).await;
    let draft = job(&s, &w, json!({"status": "draft"})).await;
    let closing = job(
        &s,
        &w,
        json!({"application_deadline": common::time::rfc3339(common::time::now_secs() + 2)}),
    )
    .await;
    let (_, seeker) = s.register("seeker").await;
    let stok = token_of(&seeker);
    let apply = |job: &str, body: Value, tok: &str| {
        let p = format!("/jobs/{job}/applications");
        let t = tok.to_string();
        let s = &s;
        async move { s.post(&p, body, Some(&t)).await }
    };

    let r = apply(&open, json!({"resume": "profile"}), &stok).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no resume on the profile");
    assert!(r.body["details"]["resume"].is_array());
    assert_eq!(apply(&open, json!({}), &w.employer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(apply(&draft, json!({}), &stok).await.status, StatusCode::CONFLICT);
    let r = apply(&open, json!({"cover_letter": "Hello"}), &stok).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = apply(&open, json!({"cover_letter": "Hello again"}), &stok).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "already_applied");
    assert_eq!(r.body["details"]["application_id"], id.as_str());

    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = apply(&closing, json!({}), &stok).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "after the deadline");
    assert_eq!(r.body["error"], "job_not_open");
    s.send("DELETE", &format!("/jobs/{open}"), None, Some(&w.employer)).await;
    let (_, late) = s.register("seeker").await;
    assert_eq!(
        apply(&open, json!({}), &token_of(&late)).await.status,
        StatusCode::CONFLICT,
        "closed job"
    );

    // Skipping a stage is refused with the allowed moves; interviews need a shortlist.
    let path = format!("/applications/{id}");
    let r = patch(&s, &format!("{path}/status"), json!({"status": "offered"}), &w.employer).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "invalid_transition");
    assert_eq!(r.body["details"]["allowed"], json!(["reviewed", "rejected"]));
    let r = patch(&s, &format!("{path}/status"), json!({"status": "withdrawn"}), &w.employer).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only the applicant withdraws");
    let soon = common::time::rfc3339(common::time::now_secs() + 3600);
    let r = s
        .post(
            &format!("{path}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"}),
            Some(&w.employer),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = s
        .post(
            &format!("{path}/interviews"),
            json!({"scheduled_at": "2020-01-01T00:00:00Z", "duration_minutes": 1, "kind": "onsite"}),
            Some(&w.employer),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["scheduled_at", "duration_minutes", "location"] {
        assert!(r.body["details"][f].is_array(), "{f}: {r:?}");
    }

    // Withdrawing is final.
    let r = s.send("DELETE", &path, None, Some(&stok)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "withdrawn");
    assert_eq!(
        patch(&s, &format!("{path}/status"), json!({"status": "reviewed"}), &w.employer)
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(s.send("DELETE", &path, None, Some(&stok)).await.status, StatusCode::CONFLICT);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_applies_make_one_application_and_moves_race_safely() {
    let s = TestStack::start_with(false, false).await;
    let w = world(&s).await;
    let job_id = job(&s, &w, json!({})).await;
    let (_, seeker) = s.register("seeker").await;
    let stok = token_of(&seeker);
    let path = format!("/jobs/{job_id}/applications");

    let replies = join_all((0..50).map(|_| s.post(&path, json!({"cover_letter": "Me!"}), Some(&stok)))).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!(
        (created, conflicts),
        (1, 49),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let listed = s.get(&path, Some(&w.employer)).await.body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.get("/me/stats", Some(&w.employer)).await.body["applicants"]["total"],
        1,
        "the counter saw one"
    );

    // The same Idempotency-Key: every retry gets the first result.
    let (_, other) = s.register("seeker").await;
    let otok = token_of(&other);
    let send = || {
        s.http
            .post(format!("{}{path}", s.base))
            .bearer_auth(&otok)
            .header("idempotency-key", "apply-once")
            .json(&json!({"cover_letter": "Retrying"}))
            .send()
    };
    let replies = join_all((0..20).map(|_| send())).await;
    let mut ids = std::collections::HashSet::new();
    for r in replies {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.insert(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(s.get(&path, Some(&w.employer)).await.body["items"].as_array().unwrap().len(), 2);

    // Two moves of one application at once: one wins, the history stays consistent.
    let id = listed["items"][0]["id"].as_str().unwrap().to_string();
    let move_path = format!("/applications/{id}/status");
    let moves = join_all(["reviewed", "rejected"].map(|to| patch(&s, &move_path, json!({"status": to}), &w.employer))).await;
    let ok: Vec<&Reply> = moves.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(ok.len(), 1, "{moves:?}");
    assert!(moves.iter().any(|r| r.status == StatusCode::CONFLICT));
    let h = s.get(&format!("/applications/{id}/history"), Some(&w.employer)).await.body;
    let entries = h["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["to"], ok[0].body["status"]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_else_sees_or_moves_an_application() {
    let s = TestStack::start_with(false, false).await;
    let w = world(&s).await;
    let job_id = job(&s, &w, json!({})).await;
    let (_, seeker) = s.register("seeker").await;
    let stok = token_of(&seeker);
    let id = s.post(&format!("/jobs/{job_id}/applications"), json!({}), Some(&stok)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    patch(
        &s,
        &format!("/applications/{id}/status"),
        json!({"status": "reviewed"}),
        &w.employer,
    )
    .await;
    patch(
        &s,
        &format!("/applications/{id}/status"),
        json!({"status": "shortlisted"}),
        &w.employer,
    )
    .await;
    let soon = common::time::rfc3339(common::time::now_secs() + 3600);
    let iv = s
        .post(
            &format!("/applications/{id}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"}),
            Some(&w.employer),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, other_seeker) = s.register("seeker").await;
    let (_, other_employer) = s.register("employer").await;
    let oe = token_of(&other_employer);
    s.post("/companies", json!({"name": "Snoops"}), Some(&oe)).await;
    let os = token_of(&other_seeker);

    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/applications/{id}"), None),
        ("GET", format!("/applications/{id}/history"), None),
        ("GET", format!("/applications/{id}/interviews"), None),
        ("PATCH", format!("/applications/{id}/status"), Some(json!({"status": "rejected"}))),
        (
            "POST",
            format!("/applications/{id}/interviews"),
            Some(json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"})),
        ),
        ("PATCH", format!("/interviews/{iv}"), Some(json!({"status": "cancelled"}))),
        ("DELETE", format!("/applications/{id}"), None),
        ("GET", format!("/jobs/{job_id}/applications"), None),
    ];
    for (method, path, body) in &routes {
        for (who, tok) in [("another seeker", &os), ("another employer", &oe)] {
            let r = s.send(method, path, body.clone(), Some(tok)).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
                "{method} {path} by {who}: {r:?}"
            );
            assert_error_body(&r);
        }
        assert_eq!(
            s.send(method, path, body.clone(), None).await.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    // The applicant cannot act as the company.
    assert_eq!(
        patch(&s, &format!("/applications/{id}/status"), json!({"status": "offered"}), &stok)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        patch(&s, &format!("/interviews/{iv}"), json!({"status": "cancelled"}), &stok)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Nothing changed.
    let a = s.get(&format!("/applications/{id}"), Some(&stok)).await.body;
    assert_eq!(a["status"], "interviewing");
    let ivs = s.get(&format!("/applications/{id}/interviews"), Some(&stok)).await.body;
    assert_eq!(ivs["items"][0]["status"], "scheduled");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_apply_replays_its_201_even_after_the_job_closed() {
    let s = TestStack::start_with(false, false).await;
    let w = world(&s).await;
    let open = job(&s, &w, json!({})).await;
    let (_, seeker) = s.register("seeker").await;
    let stok = token_of(&seeker);
    let path = format!("/jobs/{open}/applications");
    let body = serde_json::to_vec(&json!({"cover_letter": "Hello"})).unwrap();
    let key = [("idempotency-key", "apply-once-1"), ("content-type", "application/json")];
    let first = s.send_raw("POST", &path, body.clone(), Some(&stok), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(
        s.send("DELETE", &format!("/jobs/{open}"), None, Some(&w.employer)).await.status,
        StatusCode::NO_CONTENT
    );
    let again = s.send_raw("POST", &path, body, Some(&stok), &key).await;
    assert_eq!(again.status, StatusCode::CREATED, "the retry gets the stored response: {again:?}");
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    // Without the key, the closed job answers as it should.
    let fresh = s.post(&path, json!({"cover_letter": "Hello"}), Some(&stok)).await;
    assert_eq!(fresh.status, StatusCode::CONFLICT);
    // The same key with another body is refused.
    let other = serde_json::to_vec(&json!({"cover_letter": "Different"})).unwrap();
    let reused = s.send_raw("POST", &path, other, Some(&stok), &key).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["error"], "idempotency_key_reused");
    s.shutdown().await;
}
