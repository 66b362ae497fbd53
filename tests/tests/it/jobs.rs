//! Jobs end to end through the local gateway: posting, browsing with every filter and
//! paginating, counters, the IDOR matrix of the write routes, reports and moderation,
//! expiry by reading and by the schedule.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Catalog {
    admin: String,
    employer: String,
    company: String,
}

async fn category(s: &TestStack, admin: &str, name: &str) -> String {
    let r = s.post("/categories", json!({"name": name}), Some(admin)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body["slug"].as_str().unwrap().to_string()
}

async fn setup(s: &TestStack) -> Catalog {
    let admin = s.admin_token().await;
    let (_, employer) = s.register("employer").await;
    s.mark_verified(employer["user"]["id"].as_str().unwrap()).await;
    let employer = token_of(&employer);
    let r = s.post("/companies", json!({"name": "Acme"}), Some(&employer)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    Catalog {
        admin,
        employer,
        company: r.body["id"].as_str().unwrap().to_string(),
    }
}

fn job_body(company: &str, category: &str) -> Value {
    json!({
        "company_id": company, "title": "Backend engineer", "description": "Build the platform.",
        "location": {"city": "Berlin", "country": "DE"}, "workplace": "hybrid", "employment_type": "full_time",
        "experience_level": "mid", "category": category, "skills": ["Rust", "AWS"]
    })
}

fn merge(mut base: Value, over: Value) -> Value {
    for (k, v) in over.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

async fn post_job(s: &TestStack, token: &str, body: Value) -> Value {
    let r = s.post("/jobs", body, Some(token)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body
}

/// Every item of a list, page by page (`limit` per page); checks pages are full until the last.
async fn all_pages(s: &TestStack, path: &str, limit: usize, token: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    for _ in 0..200 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = s.get(&url, token).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {r:?}");
        let items = r.body["items"].as_array().unwrap().clone();
        let next = r.body["next_cursor"].as_str().map(str::to_string);
        if next.is_some() {
            assert_eq!(items.len(), limit, "{url}: a page with a next cursor is full when that many match");
        }
        out.extend(items);
        match next {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("{path}: pagination does not end");
}

/// 36 jobs over every dimension (some drafts, some featured, two companies): every list and
/// filter returns exactly the open jobs it should, newest first, page after page; counts
/// follow; owners see their drafts; bad filters and foreign cursors are 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seekers_browse_open_jobs_with_every_filter_and_paginate_to_the_end() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let (acme, globex) = (s.employer().await, s.employer().await);
    let c = Companies {
        acme: acme.create_company("Acme").await,
        globex: globex.create_company("Globex").await,
    };
    let cats = [
        admin.create_category().await,
        admin.create_category().await,
        admin.create_category().await,
    ];
    let posted = step_post_a_spread_of_jobs(&admin, &acme, &globex, &c, &cats).await;
    let published: Vec<&Value> = posted.iter().filter(|j| j["status"] == "published").collect();
    assert_eq!(published.len(), 31);

    // Everything, newest first, in pages of 7: no duplicates, no gaps.
    let all = all_pages(&s, "/jobs", 7, None).await;
    let expected: Vec<String> = published.iter().rev().map(|j| j["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids(&all), expected);
    assert!(all.iter().all(|j| j["accepting_applications"] == true));

    step_every_filter_matches_what_was_posted(&s, &published, &c, &cats).await;
    step_open_counts_follow(&s, &published, &cats).await;
    step_owners_list_their_drafts_too(&s, &acme, &posted, &c.acme).await;
    step_bad_filters_and_foreign_cursors(&s).await;
    s.shutdown().await;
}

struct Companies {
    acme: String,
    globex: String,
}

/// Every seventh a draft, every fifth featured (by an admin), every ninth Globex's; salaries
/// of every shape.
async fn step_post_a_spread_of_jobs(admin: &User<'_>, acme: &User<'_>, globex: &User<'_>, c: &Companies, cats: &[String; 3]) -> Vec<Value> {
    let types = ["full_time", "part_time", "contract", "temporary", "internship"];
    let levels = ["entry", "mid", "senior", "lead", "executive"];
    let places = ["on_site", "remote", "hybrid"];
    let cities = [("Berlin", "DE"), ("Munich", "DE"), ("Amsterdam", "NL"), ("Lisbon", "PT")];
    let mut posted: Vec<Value> = Vec::new();
    for i in 0..36usize {
        let (city, country) = cities[i % 4];
        let salary = match i % 4 {
            0 => Value::Null,
            1 => json!({"min": 40_000 + i as u64 * 1000, "max": 60_000 + i as u64 * 1000, "currency": "EUR", "period": "year"}),
            2 => json!({"min": 4_000, "max": 6_000, "currency": "EUR", "period": "month"}),
            _ => json!({"min": 50_000, "max": 90_000, "currency": "USD", "period": "year"}),
        };
        let (who, company) = if i % 9 == 8 { (globex, &c.globex) } else { (acme, &c.acme) };
        let mut body = merge(
            job_body(company, &cats[i % 3]),
            json!({
                "title": format!("Job {i}"), "employment_type": types[i % 5], "experience_level": levels[(i / 2) % 5],
                "workplace": places[i % 3], "location": {"city": city, "country": country},
                "status": if i % 7 == 6 { "draft" } else { "published" }
            }),
        );
        if !salary.is_null() {
            body["salary"] = salary;
        }
        let r = who.post("/jobs", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let mut job = r.body;
        if i % 5 == 0 {
            let r = admin
                .patch(&format!("/admin/jobs/{}", job["id"].as_str().unwrap()), json!({"featured": true}))
                .await;
            assert_eq!((r.status, &r.body["featured"]), (StatusCode::OK, &json!(true)), "{r:?}");
            job = r.body;
        }
        posted.push(job);
    }
    posted
}

/// A job's salary as a yearly range with its currency.
fn yearly(j: &Value) -> Option<(u64, u64, String)> {
    let sal = j.get("salary").filter(|v| !v.is_null())?;
    let f = match sal["period"].as_str().unwrap() {
        "month" => 12,
        "hour" => 2080,
        _ => 1,
    };
    Some((
        sal["min"].as_u64().unwrap() * f,
        sal["max"].as_u64().unwrap() * f,
        sal["currency"].as_str().unwrap().to_string(),
    ))
}

/// Each filter against what was posted, paginated in small pages.
async fn step_every_filter_matches_what_was_posted(s: &TestStack, published: &[&Value], c: &Companies, cats: &[String; 3]) {
    let [eng, design, sales] = cats;
    let expect = |pred: &dyn Fn(&Value) -> bool| -> HashSet<String> {
        published
            .iter()
            .filter(|j| pred(j))
            .map(|j| j["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (acme, globex) = (&c.acme, &c.globex);
    let cases: Vec<(String, HashSet<String>)> = vec![
        (format!("/jobs?category={design}"), expect(&|j| j["category"] == design.as_str())),
        (
            format!("/jobs?category={design},{sales}"),
            expect(&|j| j["category"] == design.as_str() || j["category"] == sales.as_str()),
        ),
        (
            format!("/jobs?company_id={globex}"),
            expect(&|j| j["company_id"] == globex.as_str()),
        ),
        (
            "/jobs?employment_type=contract,internship".into(),
            expect(&|j| j["employment_type"] == "contract" || j["employment_type"] == "internship"),
        ),
        (
            "/jobs?experience_level=senior".into(),
            expect(&|j| j["experience_level"] == "senior"),
        ),
        ("/jobs?workplace=remote".into(), expect(&|j| j["workplace"] == "remote")),
        ("/jobs?country=nl,pt".into(), expect(&|j| j["location"]["country"] != "DE")),
        ("/jobs?city=MUNICH".into(), expect(&|j| j["location"]["city"] == "Munich")),
        (
            "/jobs?salary_min=55000&currency=EUR".into(),
            expect(&|j| yearly(j).is_none_or(|(_, max, cur)| cur == "EUR" && max >= 55_000)),
        ),
        (
            "/jobs?salary_min=5000&salary_max=5500&salary_period=month&currency=EUR&has_salary=true".into(),
            expect(&|j| yearly(j).is_some_and(|(min, max, cur)| cur == "EUR" && max >= 60_000 && min <= 66_000)),
        ),
        (
            "/jobs?currency=USD&has_salary=true".into(),
            expect(&|j| yearly(j).is_some_and(|y| y.2 == "USD")),
        ),
        (
            format!("/jobs?category={eng}&workplace=on_site,hybrid&country=DE"),
            expect(&|j| j["category"] == eng.as_str() && j["workplace"] != "remote" && j["location"]["country"] == "DE"),
        ),
        ("/jobs/featured".into(), expect(&|j| j["featured"] == true)),
        (format!("/categories/{sales}/jobs"), expect(&|j| j["category"] == sales.as_str())),
        (format!("/companies/{globex}/jobs"), expect(&|j| j["company_id"] == globex.as_str())),
        (
            format!("/companies/{acme}/jobs?workplace=remote"),
            expect(&|j| j["company_id"] == acme.as_str() && j["workplace"] == "remote"),
        ),
    ];
    for (path, want) in cases {
        assert!(!want.is_empty(), "{path}: the data set should match something");
        let got_ids = ids(&all_pages(s, &path, 3, None).await);
        let set: HashSet<String> = got_ids.iter().cloned().collect();
        assert_eq!(set.len(), got_ids.len(), "{path}: duplicates");
        assert_eq!(set, want, "{path}");
        let mut sorted = got_ids.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(got_ids, sorted, "{path}: newest first");
    }
}

/// Open-job counters per category follow the posts (drafts do not count).
async fn step_open_counts_follow(s: &TestStack, published: &[&Value], cats: &[String; 3]) {
    for slug in cats {
        let n = published.iter().filter(|j| j["category"] == slug.as_str()).count() as i64;
        assert_eq!(open_count(s, slug).await, n, "{slug}");
    }
    let listed = s.get("/categories?limit=100", None).await.body;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["slug"] == cats[0].as_str() && c["open_job_count"].as_i64().unwrap() > 0));
}

/// The employer's own list has drafts too, and filters by status.
async fn step_owners_list_their_drafts_too(s: &TestStack, owner: &User<'_>, posted: &[Value], company: &str) {
    let mine = all_pages(s, "/me/jobs", 10, Some(&owner.token)).await;
    let own: HashSet<String> = posted
        .iter()
        .filter(|j| j["company_id"] == company)
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids(&mine).into_iter().collect::<HashSet<_>>(), own);
    let drafts = all_pages(s, "/me/jobs?status=draft", 10, Some(&owner.token)).await;
    assert!(!drafts.is_empty() && drafts.iter().all(|j| j["status"] == "draft"));
}

/// Bad filters and foreign cursors are 400; unknown parents are 404.
async fn step_bad_filters_and_foreign_cursors(s: &TestStack) {
    let r = s.get("/jobs?workplace=moon&salary_min=x", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_filter");
    assert!(r.body["details"]["workplace"].is_array() && r.body["details"]["salary_min"].is_array());
    assert_error_body(&r);
    let first = s.get("/jobs?limit=2&workplace=remote", None).await.body;
    let cursor = first["next_cursor"].as_str().unwrap();
    let r = s.get(&format!("/jobs?limit=2&workplace=hybrid&cursor={cursor}"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a cursor belongs to its filters");
    assert_eq!(r.body["error"], "invalid_cursor");
    assert_eq!(s.get("/categories/no-such-thing/jobs", None).await.status, StatusCode::NOT_FOUND);
    let nobody = s.get(&format!("/companies/{}/jobs", ulid::Ulid::new()), None).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

/// An owner drafts a job, publishes it with a salary, moves it between categories (counts
/// follow; unknown and inactive categories are refused), closes and reopens it; PATCH
/// bodies and new jobs are checked whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_update_close_and_reopen_jobs_and_counters_follow() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let owner = s.employer().await;
    let company = owner.create_company("Acme").await;
    let (eng, ops) = (admin.create_category().await, admin.create_category().await);
    let r = owner
        .post("/jobs", merge(job_body(&company, &eng), json!({"status": "draft"})))
        .await;
    let draft = r.body;
    let id = draft["id"].as_str().unwrap().to_string();
    let path = format!("/jobs/{id}");

    step_drafts_are_private(&s, &owner, &draft, &path, &eng).await;
    step_publish_with_a_salary(&s, &owner, &draft, &path, &eng).await;
    step_categories_move_the_count(&s, &admin, &owner, &path, &eng, &ops).await;
    step_the_body_contract(&owner, &path).await;
    step_close_and_reopen(&s, &owner, &path, &ops, &id).await;
    step_posting_rules(&s, &owner, &company, &ops).await;
    s.shutdown().await;
}

async fn step_drafts_are_private(s: &TestStack, owner: &User<'_>, draft: &Value, path: &str, eng: &str) {
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["accepting_applications"], false);
    assert_eq!(open_count(s, eng).await, 0);
    assert_eq!(s.get(path, None).await.status, StatusCode::NOT_FOUND, "drafts are not public");
    assert_eq!(owner.get(path).await.status, StatusCode::OK, "members see their drafts");
}

/// PATCH changes only what is sent.
async fn step_publish_with_a_salary(s: &TestStack, owner: &User<'_>, draft: &Value, path: &str, eng: &str) {
    let salary = json!({"min": 50000, "max": 70000, "currency": "eur", "period": "year"});
    let r = owner.patch(path, json!({"status": "published", "salary": salary})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "published");
    assert_eq!(r.body["salary"]["currency"], "EUR");
    assert_eq!(r.body["title"], draft["title"]);
    assert!(r.body["published_at"].is_string());
    assert_eq!(open_count(s, eng).await, 1);
}

/// An unknown or inactive category is refused whole.
async fn step_categories_move_the_count(s: &TestStack, admin: &User<'_>, owner: &User<'_>, path: &str, eng: &str, ops: &str) {
    let r = owner
        .patch(path, json!({"category": ops, "title": "Site reliability engineer"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!((open_count(s, eng).await, open_count(s, ops).await), (0, 1));
    let r = owner.patch(path, json!({"category": "nope", "title": "Never saved"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["details"]["category"].is_array());
    assert_eq!(admin.delete(&format!("/categories/{eng}")).await.status, StatusCode::NO_CONTENT);
    let r = owner.patch(path, json!({ "category": eng })).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a deactivated category takes no new jobs"
    );
    assert_eq!(s.get(path, None).await.body["title"], "Site reliability engineer");
}

/// No unknown fields, no moving to another company, no going back to draft, every problem.
async fn step_the_body_contract(owner: &User<'_>, path: &str) {
    let r = owner.patch(path, json!({"company_id": ulid::Ulid::new().to_string()})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = owner.patch(path, json!({"status": "draft"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "invalid_status_change");
    let bad = json!({"salary": {"min": 9, "max": 1, "currency": "EUR", "period": "year"}, "application_deadline": "2001-01-01T00:00:00Z"});
    let r = owner.patch(path, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["details"]["salary"].is_array() && r.body["details"]["application_deadline"].is_array());
}

/// Closed: readable, not accepting, off the lists and counts; idempotent; reopened.
async fn step_close_and_reopen(s: &TestStack, owner: &User<'_>, path: &str, ops: &str, id: &str) {
    let r = owner.delete(path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let closed = s.get(path, None).await;
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["accepting_applications"], false);
    assert!(closed.body["closed_at"].is_string());
    assert_eq!(open_count(s, ops).await, 0);
    assert!(s.get("/jobs", None).await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(owner.delete(path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.patch(path, json!({"status": "published"})).await.status, StatusCode::OK);
    assert_eq!(open_count(s, ops).await, 1);
    assert_eq!(
        ids(s.get("/jobs", None).await.body["items"].as_array().unwrap()),
        vec![id.to_string()]
    );
}

/// Posting needs membership of the company; bad bodies are 422 with every problem.
async fn step_posting_rules(s: &TestStack, owner: &User<'_>, company: &str, ops: &str) {
    let stranger = s.employer().await;
    assert_eq!(stranger.post("/jobs", job_body(company, ops)).await.status, StatusCode::FORBIDDEN);
    let bad = json!({"title": " ", "location": {"city": "X", "country": "Germany"}, "skills": [""], "workplace": "moon"});
    let r = owner.post("/jobs", merge(job_body(company, ops), bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let bad = json!({"title": " ", "location": {"city": "X", "country": "Germany"}, "skills": [""]});
    let r = owner.post("/jobs", merge(job_body(company, ops), bad)).await;
    for f in ["title", "location", "skills"] {
        assert!(r.body["details"][f].is_array(), "{f}: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_but_the_company_writes_its_jobs() {
    let s = TestStack::start_with(false, false).await;
    let c = setup(&s).await;
    let eng = category(&s, &c.admin, "Engineering").await;
    let job = post_job(&s, &c.employer, job_body(&c.company, &eng)).await;
    let draft = post_job(&s, &c.employer, merge(job_body(&c.company, &eng), json!({"status": "draft"}))).await;
    let (_, other) = s.register("employer").await;
    s.mark_verified(other["user"]["id"].as_str().unwrap()).await;
    let other = token_of(&other);
    s.post("/companies", json!({"name": "Rival"}), Some(&other)).await;
    let (_, seeker) = s.register("seeker").await;
    let seeker = token_of(&seeker);

    for target in [&job, &draft] {
        let path = format!("/jobs/{}", target["id"].as_str().unwrap());
        let writes: Vec<(&str, Option<Value>)> = vec![("PATCH", Some(json!({"title": "Mine now"}))), ("DELETE", None)];
        for (method, body) in writes {
            let r = s.send(method, &path, body.clone(), Some(&other)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path} by another employer: {r:?}");
            assert_error_body(&r);
            assert_eq!(
                s.send(method, &path, body.clone(), Some(&seeker)).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                s.send(method, &path, body.clone(), Some(&c.admin)).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(s.send(method, &path, body.clone(), None).await.status, StatusCode::UNAUTHORIZED);
        }
        let r = s
            .send(
                "PATCH",
                &format!("/admin/jobs/{}", target["id"].as_str().unwrap()),
                Some(json!({"status": "suspended", "reason": "x"})),
                Some(&other),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "only admins moderate");
    }
    assert_eq!(
        s.get(&format!("/jobs/{}", draft["id"].as_str().unwrap()), Some(&other))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = s.post("/jobs", job_body(&c.company, &eng), Some(&other)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "posting for a company one is not a member of");
    let r = s.get(&format!("/me/jobs?company_id={}", c.company), Some(&other)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another company's job list");
    // An employer of no company has no jobs; the paging parameters are still checked.
    let (_, lone) = s.register("employer").await;
    let lone = token_of(&lone);
    let r = s.get("/me/jobs", Some(&lone)).await;
    assert_eq!((r.status, &r.body["items"]), (StatusCode::OK, &json!([])), "{r:?}");
    for (query, code) in [
        ("limit=-1", "invalid_limit"),
        ("limit=0.5", "invalid_limit"),
        ("cursor=abc", "invalid_cursor"),
    ] {
        let r = s.get(&format!("/me/jobs?{query}"), Some(&lone)).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{query}: {r:?}"
        );
    }
    // Nothing changed.
    let after = s.get(&format!("/jobs/{}", job["id"].as_str().unwrap()), None).await.body;
    assert_eq!(after["title"], job["title"]);
    assert_eq!(after["status"], "published");
    assert_eq!(after["version"], job["version"]);
    s.shutdown().await;
}

/// A job past its deadline reads expired at once; the schedule then stores it as expired,
/// fixes the count and emits `job.expired`; reopening needs a new deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_its_deadline_stops_at_once_and_the_schedule_expires_it() {
    let s = TestStack::start_scheduled(Duration::from_millis(700)).await;
    let admin = s.admin().await;
    let owner = s.employer().await;
    let company = owner.create_company("Acme").await;
    let eng = admin.create_category().await;
    let in_secs = |n: i64| common::time::rfc3339(common::time::now_secs() + n);
    let job = owner.post_job(&company, &eng, json!({"application_deadline": in_secs(3)})).await;
    let later = owner
        .post_job(&company, &eng, json!({"application_deadline": in_secs(86_400)}))
        .await;
    assert_eq!(s.get(&format!("/jobs/{job}"), None).await.body["accepting_applications"], true);
    assert_eq!(open_count(&s, &eng).await, 2);
    tokio::time::sleep(Duration::from_secs(4)).await;

    step_past_the_deadline_it_reads_expired(&s, &job, &later).await;
    step_the_schedule_stores_it(&s, &job, &eng).await;
    let path = format!("/jobs/{job}");
    let r = owner.patch(&path, json!({"status": "published"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "reopening needs a new deadline");
    let r = owner
        .patch(&path, json!({"status": "published", "application_deadline": in_secs(3600)}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(open_count(&s, &eng).await, 2);
    s.shutdown().await;
}

async fn step_past_the_deadline_it_reads_expired(s: &TestStack, job: &str, later: &str) {
    let r = s.get(&format!("/jobs/{job}"), None).await.body;
    assert_eq!(r["status"], "expired", "past the deadline a job reads expired");
    assert_eq!(r["accepting_applications"], false);
    assert_eq!(
        ids(s.get("/jobs", None).await.body["items"].as_array().unwrap()),
        vec![later.to_string()]
    );
}

async fn step_the_schedule_stores_it(s: &TestStack, job: &str, eng: &str) {
    let mut stored = None;
    for _ in 0..50 {
        let item = jobs::get(s.running.app, job).await.unwrap().unwrap();
        if item.status == jobs::rules::JobStatus::Expired {
            stored = Some(item);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(stored.is_some(), "the schedule expired the job");
    assert_eq!(open_count(s, eng).await, 1);
    let events = outbox_types(s).await;
    assert_eq!(events.get("job.expired"), Some(&1), "{events:?}");
    assert_eq!(events.get("job.created"), Some(&2));
}

/// Outbox events in the table by type.
async fn outbox_types(s: &TestStack) -> HashMap<String, usize> {
    let ddb = aws_sdk_dynamodb::Client::new(s.sdk());
    let mut out = HashMap::new();
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(s.running.app.table())
            .filter_expression("entity = :o")
            .expression_attribute_values(":o", aws_sdk_dynamodb::types::AttributeValue::S("outbox".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for i in page.items() {
            if let Some(t) = i.get("type").and_then(|t| t.as_s().ok()) {
                *out.entry(t.clone()).or_default() += 1;
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}
