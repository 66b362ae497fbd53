//! The indexes themselves: candidates' privacy (and no personal data in any document),
//! late and repeated events, and rebuilding from the table while search answers.

use std::time::Duration;

use common::events::{DomainEvent, JobChanged, UserUpdated};
use common::vocab::Visibility;
use integration_tests::*;
use reqwest::StatusCode;
use search::engine::Written;
use search::mappings::IndexKind;
use serde_json::json;

const SOON: Duration = Duration::from_secs(8);

const PHONE: &str = "+49 30 1234567";
const ADDRESS: &str = "Geheimstrasse 7, 10115 Berlin";
const BIO: &str = "Secret biography sentence";

async fn listed_seeker<'s>(s: &'s TestStack, headline: &str) -> User<'s> {
    let seeker = s.seeker().await;
    let r = seeker
        .patch(
            "/me/profile",
            json!({"headline": headline, "skills": ["Rust", "Kubernetes"], "visibility": "public", "available_for_hire": true,
                "phone": PHONE, "address": ADDRESS, "bio": BIO,
                "location": {"city": "Berlin", "country": "DE", "lat": 52.52, "lon": 13.405},
                "experience": [{"title": "Platform engineer", "company": "Acme", "start": "2019-01"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    seeker
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_are_public_available_active_seekers_only_and_documents_hold_no_personal_data() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let headline = format!("Rustacean {}", unique(""));
    let (shown, private, busy, suspended, erased) = (
        listed_seeker(&s, &headline).await,
        listed_seeker(&s, &headline).await,
        listed_seeker(&s, &headline).await,
        listed_seeker(&s, &headline).await,
        listed_seeker(&s, &headline).await,
    );
    let path = format!(
        "/candidates?q={}&skills=rust,kubernetes&lat=52.5&lon=13.4&radius_km=10&experience_level=senior",
        headline.replace(' ', "%20")
    );
    let r = s.get_until(&path, Some(&employer.token), SOON, |r| hit_ids(r).len() == 5).await;
    let item = &r.body["items"][0];
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec!["available_for_hire", "full_name", "headline", "location", "skills", "user_id"]
    );

    private.patch("/me/profile", json!({"visibility": "private"})).await;
    busy.patch("/me/profile", json!({"available_for_hire": false})).await;
    let r = admin
        .patch(
            &format!("/admin/users/{}", suspended.id),
            json!({"status": "suspended", "reason": "abuse"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(erased.delete("/me").await.status, StatusCode::NO_CONTENT);
    let r = s.get_until(&path, Some(&employer.token), SOON, |r| hit_ids(r).len() == 1).await;
    assert_eq!(hit_ids(&r), vec![shown.id.clone()]);

    // Read the index: no phone, address, bio or email anywhere.
    for index in ["jobs", "companies", "candidates", "saved-searches"] {
        for doc in s.index_docs(index).await {
            let text = doc.to_string();
            for secret in [PHONE, ADDRESS, BIO, &shown.email, &employer.email] {
                assert!(!text.contains(secret), "{index} holds {secret}: {text}");
            }
        }
    }
    let r = shown.get("/candidates").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "seekers do not search seekers: {r:?}");
    assert_eq!(s.get("/candidates", None).await.status, StatusCode::UNAUTHORIZED);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_and_repeated_events_never_bring_back_old_state() {
    let s = TestStack::start().await;
    let app = s.running.app;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Ordering Inc").await;
    let id = employer
        .post_job(&company, &category, json!({"title": "First title", "status": "published"}))
        .await;
    let first = jobs::get(app, &id).await.unwrap().unwrap();
    employer.patch(&format!("/jobs/{id}"), json!({"title": "Second title"})).await;
    let search = format!("/search/jobs?company_id={company}");
    s.get_until(&search, None, SOON, |r| r.body["items"][0]["title"] == "Second title")
        .await;

    // The first version arrives again, late: the engine refuses it.
    let doc = search::indexer::job_doc(app, &first).await.unwrap();
    let w = search::engine::put(app, IndexKind::Jobs, &id, first.version, &doc).await.unwrap();
    assert_eq!(w, Written::Stale);
    // Its event redelivered: the indexer reads the table and writes the current state.
    let late = DomainEvent::JobCreated(JobChanged {
        job: first.clone(),
        previous_status: None,
        reason: None,
    });
    search::indexer::apply(app, &late).await.unwrap();
    search::indexer::apply(app, &late).await.unwrap();
    assert_eq!(s.get(&search, None).await.body["items"][0]["title"], "Second title");

    // Closed: deleted at its version; the older open versions cannot come back.
    employer.delete(&format!("/jobs/{id}")).await;
    s.get_until(&search, None, SOON, |r| r.body["total"] == 0).await;
    let w = search::engine::put(app, IndexKind::Jobs, &id, first.version + 1, &doc)
        .await
        .unwrap();
    assert_eq!(w, Written::Stale, "a deletion keeps its version");
    search::indexer::apply(app, &late).await.unwrap();
    assert_eq!(s.get(&search, None).await.body["total"], 0);

    // An erased candidate is deleted above any version: a late profile event finds nothing.
    let seeker = listed_seeker(&s, "Late bloomer").await;
    assert_eq!(seeker.delete("/me").await.status, StatusCode::NO_CONTENT);
    let stale = DomainEvent::UserUpdated(UserUpdated {
        user_id: seeker.id.clone(),
        changed: vec!["headline".into()],
        visibility: Visibility::Public,
        available_for_hire: true,
    });
    search::indexer::apply(app, &stale).await.unwrap();
    let r = s
        .get_until("/candidates?q=bloomer", Some(&employer.token), SOON, |r| r.status == StatusCode::OK)
        .await;
    assert!(hit_ids(&r).is_empty(), "{r:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_from_the_table_while_search_answers() {
    let s = TestStack::start().await;
    let app = s.running.app;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Rebuilt Ltd").await;
    let mut posted = Vec::new();
    for i in 0..5 {
        posted.push(
            employer
                .post_job(
                    &company,
                    &category,
                    json!({"title": format!("Rebuild me {i}"), "status": "published"}),
                )
                .await,
        );
    }
    let search = format!("/search/jobs?company_id={company}");
    s.get_until(&search, None, SOON, |r| r.body["total"] == 5).await;

    // The index drifts: one job's document is lost, a bogus one appears.
    let lost = jobs::get(app, &posted[0]).await.unwrap().unwrap();
    search::engine::delete(app, IndexKind::Jobs, &posted[0], lost.version)
        .await
        .unwrap();
    let ghost = jobs::get(app, &posted[1]).await.unwrap().unwrap();
    let mut doc = search::indexer::job_doc(app, &ghost).await.unwrap();
    doc.id = "01GHOST0000000000000000000".into();
    search::engine::put(app, IndexKind::Jobs, "01GHOST0000000000000000000", 1, &doc)
        .await
        .unwrap();
    s.get_until(&search, None, SOON, |r| r.body["total"] == 5 && !hit_ids(r).contains(&posted[0]))
        .await;

    let searching = {
        let (base, path) = (s.base.clone(), search.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut answers = 0;
            for _ in 0..40 {
                let r = http.get(format!("{base}{path}")).send().await.unwrap();
                assert_eq!(r.status(), 200, "search answers during the rebuild");
                answers += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            answers
        })
    };
    let rebuilt = search::reindex::run(app).await.unwrap();
    assert!(rebuilt.jobs >= 5 && rebuilt.removed >= 1, "{rebuilt:?}");
    assert_eq!(searching.await.unwrap(), 40);
    let r = s.get_until(&search, None, SOON, |r| r.body["total"] == 5).await;
    let mut got = hit_ids(&r);
    got.sort();
    posted.sort();
    assert_eq!(got, posted);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_company_or_category_reaches_its_jobs_documents() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Oldname Works").await;
    let mut posted = Vec::new();
    for i in 0..3 {
        posted.push(
            employer
                .post_job(&company, &category, json!({"title": format!("Role {i}"), "status": "published"}))
                .await,
        );
    }
    let search = format!("/search/jobs?company_id={company}");
    s.get_until(&search, None, SOON, |r| r.body["total"] == 3).await;

    let r = employer
        .patch(&format!("/companies/{company}"), json!({"name": "Newname Works"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = s
        .get_until(&search, None, SOON, |r| {
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["company_name"] == "Newname Works")
        })
        .await;
    assert_eq!(r.body["total"], 3);
    s.get_until("/search/companies?q=newname", None, SOON, |r| hit_ids(r) == vec![company.clone()])
        .await;

    let r = admin
        .patch(&format!("/categories/{category}"), json!({"name": "Xylophonists"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    s.get_until(&format!("{search}&q=xylophonists"), None, SOON, |r| r.body["total"] == 3)
        .await;
    s.shutdown().await;
}
