//! Applications end to end through the local gateway: applying, the whole hiring pipeline
//! with an interview, illegal moves, races, the IDOR matrix, and the events reaching the
//! notifications consumer.

use std::time::Duration;

use futures::future::join_all;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct World {
    employer: String,
    company: String,
    slug: String,
}

async fn world(s: &TestStack) -> World {
    let admin = s.admin_token().await;
    let (_, e) = s.register("employer").await;
    s.mark_verified(e["user"]["id"].as_str().unwrap()).await;
    let employer = token_of(&e);
    let company = s.post("/companies", json!({"name": "Hiring Co"}), Some(&employer)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let slug = s.post("/categories", json!({"name": "Engineering"}), Some(&admin)).await.body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    World { employer, company, slug }
}

async fn job(s: &TestStack, w: &World, extra: Value) -> String {
    let r = s.post("/jobs", job_body(&w.company, &w.slug, extra), Some(&w.employer)).await;
    id_of(&r)
}

async fn patch(s: &TestStack, path: &str, body: Value, tok: &str) -> Reply {
    s.send("PATCH", path, Some(body), Some(tok)).await
}

/// The hiring story: a seeker applies with the resume on their profile; the company sees
/// them, reviews, shortlists, interviews (rescheduled, then completed with feedback the
/// seeker never sees), offers and hires; history, lists, stats and emails follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeker_applies_and_the_company_walks_the_whole_pipeline_to_hired() {
    let s = TestStack::start().await;
    let admin = s.admin().await;
    let employer = s.employer().await;
    let company = employer.create_company("Hiring Co").await;
    let job = employer.post_job(&company, &admin.create_category().await, json!({})).await;
    let seeker = s.seeker().await;
    let outsider = s.employer().await;
    outsider.create_company("Other Co").await;

    let application = step_apply_with_the_profile_resume(&s, &seeker, &employer, &job).await;
    step_the_company_sees_the_applicant(&seeker, &employer, &outsider, &job).await;
    step_move(&employer, &application, "reviewed", Some("Strong CV, weak on Kubernetes")).await;
    step_move(&employer, &application, "shortlisted", None).await;
    step_interview(&seeker, &employer, &application).await;
    step_move(&employer, &application, "offered", None).await;
    step_move(&employer, &application, "hired", Some("Start in March")).await;
    step_nothing_moves_after_hired(&seeker, &employer, &application).await;
    step_history_keeps_notes_from_the_applicant(&seeker, &employer, &application).await;
    step_lists_and_stats_follow(&seeker, &employer, &job).await;
    // The applicant hears about it (events -> SNS -> queue -> notifications consumer).
    let mail = wait_for_email(&seeker.email, "Backend engineer", Duration::from_secs(20)).await;
    assert!(mail.to_string().contains("Backend engineer"), "{mail}");
    s.shutdown().await;
}

async fn step_apply_with_the_profile_resume(s: &TestStack, seeker: &User<'_>, employer: &User<'_>, job: &str) -> String {
    seeker
        .patch("/me/profile", json!({"headline": "Rustacean", "skills": ["Rust"]}))
        .await;
    attach_resume(s, &seeker.token).await;
    let profile = format!("/profiles/{}", seeker.id);
    assert_eq!(employer.get(&profile).await.status, StatusCode::NOT_FOUND, "private until applying");
    let r = seeker
        .apply_with(job, json!({"cover_letter": "I would love to.", "resume": "profile"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let a = r.body;
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["job_title"], "Backend engineer");
    assert_eq!(a["applicant"]["headline"], "Rustacean");
    let pdf = s
        .http
        .get(a["resume_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"), "the resume sent is downloadable");
    a["id"].as_str().unwrap().to_string()
}

async fn step_the_company_sees_the_applicant(seeker: &User<'_>, employer: &User<'_>, outsider: &User<'_>, job: &str) {
    let profile = format!("/profiles/{}", seeker.id);
    assert_eq!(employer.get(&profile).await.status, StatusCode::OK, "the private profile opened");
    assert_eq!(outsider.get(&profile).await.status, StatusCode::NOT_FOUND, "to that company only");
    let listed = employer.get(&format!("/jobs/{job}/applications")).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["applicant"]["user_id"], seeker.id.as_str());
}

async fn step_move(employer: &User<'_>, application: &str, to: &str, note: Option<&str>) {
    let body = match note {
        Some(n) => json!({"status": to, "note": n}),
        None => json!({"status": to}),
    };
    let r = employer.patch(&format!("/applications/{application}/status"), body).await;
    assert_eq!(r.status, StatusCode::OK, "to {to}: {r:?}");
}

/// Scheduling moves a shortlisted application to interviewing; rescheduled, completed with a
/// rating (required), then final; the seeker never sees feedback or rating.
async fn step_interview(seeker: &User<'_>, employer: &User<'_>, application: &str) {
    let path = format!("/applications/{application}");
    let soon = common::time::rfc3339(common::time::now_secs() + 86_400);
    // An empty link is no link (as on profiles and companies): a video interview needs one.
    let r = employer
        .post(
            &format!("{path}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 45, "kind": "video", "meeting_url": " "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.body["details"]["meeting_url"].is_array(), "{r:?}");
    let r = employer
        .post(
            &format!("{path}/interviews"),
            json!({"scheduled_at": soon, "duration_minutes": 45, "kind": "video", "meeting_url": "https://meet.example/abc"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let interview = format!("/interviews/{}", r.body["id"].as_str().unwrap());
    assert_eq!(seeker.get(&path).await.body["status"], "interviewing");
    let later = common::time::rfc3339(common::time::now_secs() + 2 * 86_400);
    let r = employer.patch(&interview, json!({"scheduled_at": later})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["scheduled_at"], later.as_str());
    let r = employer.patch(&interview, json!({"status": "completed"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a rating is required");
    let done = json!({"status": "completed", "feedback": "Great systems thinking", "rating": "strong_yes"});
    assert_eq!(employer.patch(&interview, done).await.status, StatusCode::OK);
    assert_eq!(
        employer.patch(&interview, json!({"status": "cancelled"})).await.status,
        StatusCode::CONFLICT
    );
    let seen = seeker.get(&format!("{path}/interviews")).await.body;
    assert_eq!(seen["items"][0]["kind"], "video");
    assert!(
        seen["items"][0]["feedback"].is_null() && seen["items"][0]["rating"].is_null(),
        "{seen}"
    );
    let company_seen = employer.get(&format!("{path}/interviews")).await.body;
    assert_eq!(company_seen["items"][0]["rating"], "strong_yes");
}

async fn step_nothing_moves_after_hired(seeker: &User<'_>, employer: &User<'_>, application: &str) {
    let r = employer.move_application(application, "rejected").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["details"]["allowed"], json!([]));
    assert_eq!(
        seeker.delete(&format!("/applications/{application}")).await.status,
        StatusCode::CONFLICT
    );
}

/// Every move with actor and time; notes only for the company.
async fn step_history_keeps_notes_from_the_applicant(seeker: &User<'_>, employer: &User<'_>, application: &str) {
    let path = format!("/applications/{application}/history");
    let h = employer.get(&path).await.body;
    let to: Vec<&str> = h["items"].as_array().unwrap().iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(to, ["submitted", "reviewed", "shortlisted", "interviewing", "offered", "hired"]);
    assert_eq!(h["items"][1]["note"], "Strong CV, weak on Kubernetes");
    assert!(h["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor_id"].is_string() && e["at"].is_string()));
    let h = seeker.get(&path).await.body;
    assert!(h["items"].as_array().unwrap().iter().all(|e| e.get("note").is_none()), "{h}");
}

async fn step_lists_and_stats_follow(seeker: &User<'_>, employer: &User<'_>, job: &str) {
    assert_eq!(seeker.get("/me/applications").await.body["items"][0]["status"], "hired");
    let hired = employer.get(&format!("/jobs/{job}/applications?status=hired")).await;
    assert_eq!(hired.body["items"].as_array().unwrap().len(), 1);
    let submitted = employer.get(&format!("/jobs/{job}/applications?status=submitted")).await;
    assert!(submitted.body["items"].as_array().unwrap().is_empty());
    let st = seeker.get("/me/stats").await.body;
    assert_eq!(st["applications"]["total"], 1);
    assert_eq!(st["applications"]["by_status"]["hired"], 1);
    assert_eq!(st["applications"]["by_status"]["submitted"], 0);
    let st = employer.get("/me/stats").await.body;
    assert_eq!(st["jobs"]["total"], 1);
    assert_eq!(st["jobs"]["by_status"]["published"], 1);
    assert_eq!(st["applicants"]["total"], 1);
    assert_eq!(st["applicants"]["by_status"]["hired"], 1);
}

/// Applying needs an open job, a seeker, a resume when one is asked for, and happens once;
/// the pipeline moves one step at a time; interviews need a shortlist; withdrawing is final.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_follow_the_rules() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let employer = s.employer().await;
    let company = employer.create_company("Hiring Co").await;
    let category = admin.create_category().await;
    let open = employer.post_job(&company, &category, json!({})).await;
    let draft = employer.post_job(&company, &category, json!({"status": "draft"})).await;
    let deadline = common::time::rfc3339(common::time::now_secs() + 2);
    let closing = employer
        .post_job(&company, &category, json!({ "application_deadline": deadline }))
        .await;
    let seeker = s.seeker().await;

    let application = step_apply_once_to_an_open_job(&seeker, &employer, &open, &draft).await;
    step_closed_jobs_take_no_one(&s, &seeker, &employer, &open, &closing).await;
    step_one_stage_at_a_time(&employer, &application).await;
    step_withdrawing_is_final(&seeker, &employer, &application).await;
    s.shutdown().await;
}

async fn step_apply_once_to_an_open_job(seeker: &User<'_>, employer: &User<'_>, open: &str, draft: &str) -> String {
    let r = seeker.apply_with(open, json!({"resume": "profile"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no resume on the profile");
    assert!(r.body["details"]["resume"].is_array());
    assert_eq!(employer.apply_with(open, json!({})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(seeker.apply_with(draft, json!({})).await.status, StatusCode::CONFLICT);
    let id = id_of(&seeker.apply_with(open, json!({"cover_letter": "Hello"})).await);
    let r = seeker.apply_with(open, json!({"cover_letter": "Hello again"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "already_applied");
    assert_eq!(r.body["details"]["application_id"], id.as_str());
    id
}

async fn step_closed_jobs_take_no_one(s: &TestStack, seeker: &User<'_>, employer: &User<'_>, open: &str, closing: &str) {
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = seeker.apply_with(closing, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "after the deadline");
    assert_eq!(r.body["error"], "job_not_open");
    employer.delete(&format!("/jobs/{open}")).await;
    let late = s.seeker().await;
    assert_eq!(late.apply_with(open, json!({})).await.status, StatusCode::CONFLICT, "closed job");
}

/// Skipping a stage is refused with the allowed moves; interviews need a shortlist.
async fn step_one_stage_at_a_time(employer: &User<'_>, application: &str) {
    let r = employer.move_application(application, "offered").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "invalid_transition");
    assert_eq!(r.body["details"]["allowed"], json!(["reviewed", "rejected"]));
    let r = employer.move_application(application, "withdrawn").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only the applicant withdraws");
    let interviews = format!("/applications/{application}/interviews");
    let soon = common::time::rfc3339(common::time::now_secs() + 3600);
    let r = employer
        .post(&interviews, json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = employer
        .post(
            &interviews,
            json!({"scheduled_at": "2020-01-01T00:00:00Z", "duration_minutes": 1, "kind": "onsite"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["scheduled_at", "duration_minutes", "location"] {
        assert!(r.body["details"][f].is_array(), "{f}: {r:?}");
    }
}

async fn step_withdrawing_is_final(seeker: &User<'_>, employer: &User<'_>, application: &str) {
    let path = format!("/applications/{application}");
    let r = seeker.delete(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "withdrawn");
    assert_eq!(
        employer.move_application(application, "reviewed").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(seeker.delete(&path).await.status, StatusCode::CONFLICT);
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

/// Another seeker, another company and anonymous callers neither see nor change an
/// application or its interviews; the applicant cannot act as the company.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_else_sees_or_moves_an_application() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let employer = s.employer().await;
    let company = employer.create_company("Hiring Co").await;
    let job = employer.post_job(&company, &admin.create_category().await, json!({})).await;
    let seeker = s.seeker().await;
    let id = seeker.apply(&job).await;
    for to in ["reviewed", "shortlisted"] {
        assert_eq!(employer.move_application(&id, to).await.status, StatusCode::OK);
    }
    let soon = common::time::rfc3339(common::time::now_secs() + 3600);
    let interview = json!({"scheduled_at": soon, "duration_minutes": 30, "kind": "phone"});
    let iv = id_of(&employer.post(&format!("/applications/{id}/interviews"), interview.clone()).await);
    let other_seeker = s.seeker().await;
    let other_employer = s.employer().await;
    other_employer.create_company("Snoops").await;

    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/applications/{id}"), None),
        ("GET", format!("/applications/{id}/history"), None),
        ("GET", format!("/applications/{id}/interviews"), None),
        ("PATCH", format!("/applications/{id}/status"), Some(json!({"status": "rejected"}))),
        ("POST", format!("/applications/{id}/interviews"), Some(interview)),
        ("PATCH", format!("/interviews/{iv}"), Some(json!({"status": "cancelled"}))),
        ("DELETE", format!("/applications/{id}"), None),
        ("GET", format!("/jobs/{job}/applications"), None),
    ];
    for (method, path, body) in &routes {
        for (who, user) in [("another seeker", &other_seeker), ("another employer", &other_employer)] {
            let r = user.send(method, path, body.clone()).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
                "{method} {path} by {who}: {r:?}"
            );
            assert_error_body(&r);
        }
        let anonymous = s.send(method, path, body.clone(), None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    assert_eq!(seeker.move_application(&id, "offered").await.status, StatusCode::FORBIDDEN);
    let r = seeker.patch(&format!("/interviews/{iv}"), json!({"status": "cancelled"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the applicant cannot act as the company");
    // Nothing changed.
    assert_eq!(seeker.get(&format!("/applications/{id}")).await.body["status"], "interviewing");
    let ivs = seeker.get(&format!("/applications/{id}/interviews")).await.body;
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
