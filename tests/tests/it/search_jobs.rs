//! GET /search/jobs through the gateway against the search stand-in: what becomes visible
//! and when, typos and synonyms, filters, facets, geo, salary, paging, bad parameters.

use std::time::Duration;

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The promise: a change is searchable within 2 seconds locally.
const WITHIN: Duration = Duration::from_secs(2);
/// For the rest, a margin for a loaded machine.
const SOON: Duration = Duration::from_secs(8);

fn has(r: &Reply, id: &str) -> bool {
    r.status == StatusCode::OK && hit_ids(r).iter().any(|h| h == id)
}

async fn found(s: &TestStack, query: &str, id: &str, within: Duration) -> Reply {
    s.get_until(&format!("/search/jobs?{query}"), None, within, |r| has(r, id)).await
}

async fn gone(s: &TestStack, query: &str, id: &str) {
    s.get_until(&format!("/search/jobs?{query}"), None, SOON, |r| {
        r.status == StatusCode::OK && !has(r, id)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_job_is_found_at_once_and_gone_when_closed_suspended_or_expired() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Acme Robotics").await;
    let job = employer
        .post_job(&company, &category, json!({"title": "Robot whisperer", "status": "published"}))
        .await;
    let r = found(&s, "q=robot", &job, WITHIN).await;
    let item = &r.body["items"][0];
    assert_eq!(item["company_name"], "Acme Robotics");
    assert!(item["highlights"]["title"][0].as_str().unwrap().contains("<em>"), "{item}");
    assert!(r.body["search_id"].is_string() && r.body["total"] == 1);

    employer.delete(&format!("/jobs/{job}")).await;
    gone(&s, "q=robot", &job).await;

    let suspended = employer
        .post_job(&company, &category, json!({"title": "Spam master", "status": "published"}))
        .await;
    found(&s, "q=spam", &suspended, SOON).await;
    let r = admin
        .patch(
            &format!("/admin/jobs/{suspended}"),
            json!({"status": "suspended", "reason": "spam"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    gone(&s, "q=spam", &suspended).await;

    let deadline = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let expiring = employer
        .post_job(
            &company,
            &category,
            json!({"title": "Fleeting chance", "status": "published", "application_deadline": deadline}),
        )
        .await;
    found(&s, "q=fleeting", &expiring, SOON).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!has(&s.get("/search/jobs?q=fleeting", None).await, &expiring), "past its deadline");
    s.shutdown().await;
}

/// Posts published jobs (title, extra fields) of one company in one category; their ids.
async fn post_all(employer: &User<'_>, company: &str, category: &str, jobs: &[(&str, Value)]) -> Vec<String> {
    let mut out = Vec::new();
    for (title, extra) in jobs {
        let mut body = json!({"title": title, "status": "published"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        out.push(employer.post_job(company, category, body).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typos_synonyms_and_several_words() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Cloudy").await;
    let ids = post_all(
        &employer,
        &company,
        &category,
        &[
            ("Senior Kubernetes Engineer", json!({"skills": ["Go", "Terraform"]})),
            ("Site Reliability Engineer", json!({})),
            ("Junior Python developer", json!({"skills": ["Django"]})),
            ("Machine learning researcher", json!({})),
        ],
    )
    .await;
    let (k8s, sre, python, ml) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    s.get_until(&format!("/search/jobs?company_id={company}"), None, SOON, |r| r.body["total"] == 4)
        .await;
    for (q, id) in [
        ("kubernetse", k8s),
        ("sre", sre),
        ("ml", ml),
        ("pyhton%20dev", python),
        ("kubernetes%20xyzzyq", k8s),
    ] {
        let r = s.get(&format!("/search/jobs?q={q}"), None).await;
        assert!(has(&r, id), "q={q}: {r:?}");
    }
    // Three words: all but one must match, so the Python job (only "junior", one letter off
    // "senior" and so not a typo of it) is out.
    let r = s.get("/search/jobs?q=senior%20kubernetes%20terraform", None).await;
    assert!(has(&r, k8s) && !has(&r, python), "{r:?}");
    // Title matches rank first.
    let r = s.get("/search/jobs?q=engineer", None).await;
    assert_eq!(hit_ids(&r).len(), 2, "{r:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_facets_geo_salary_and_location() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let (eng, ops) = (admin.create_category().await, admin.create_category().await);
    let company = employer.create_company("Filterly").await;
    let london = json!({"city": "London", "country": "GB", "lat": 51.5074, "lon": -0.1278});
    let oxford = json!({"city": "Oxford", "country": "GB", "lat": 51.752, "lon": -1.2577});
    let berlin = json!({"city": "Berlin", "country": "DE", "lat": 52.52, "lon": 13.405});
    let salary = |min: u64, max: u64| json!({"min": min, "max": max, "currency": "GBP", "period": "year"});
    let a = post_all(
        &employer,
        &company,
        &eng,
        &[
            (
                "Alpha",
                json!({"location": london, "workplace": "on_site", "salary": salary(40_000, 60_000)}),
            ),
            (
                "Beta",
                json!({"location": oxford, "workplace": "hybrid", "employment_type": "contract", "salary": salary(80_000, 90_000)}),
            ),
        ],
    )
    .await;
    let b = post_all(
        &employer,
        &company,
        &ops,
        &[
            ("Gamma", json!({"location": berlin, "workplace": "remote"})),
            (
                "Delta",
                json!({"location": london, "workplace": "on_site", "experience_level": "senior"}),
            ),
        ],
    )
    .await;
    let all = format!("company_id={company}");
    let r = s
        .get_until(&format!("/search/jobs?{all}"), None, SOON, |r| r.body["total"] == 4)
        .await;
    assert_eq!(r.body["facets"]["company"][0]["count"], 4);

    // Facets: a facet ignores its own filter and honours the others.
    let r = s.get(&format!("/search/jobs?{all}&category={eng}&workplace=on_site"), None).await;
    assert_eq!(hit_ids(&r), vec![a[0].clone()]);
    let count = |r: &Reply, facet: &str, value: &str| {
        r.body["facets"][facet]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["value"] == value)
            .map(|b| b["count"].as_u64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!((count(&r, "category", &eng), count(&r, "category", &ops)), (1, 1), "{r:?}");
    assert_eq!(
        (count(&r, "workplace", "on_site"), count(&r, "workplace", "hybrid")),
        (1, 1),
        "{r:?}"
    );
    assert_eq!(count(&r, "employment_type", "full_time"), 1);
    assert_eq!(count(&r, "salary_band", "50k_75k"), 1, "{r:?}");

    // Geo radius around London: London and Oxford (~83 km) within 100 km, not Berlin;
    // include_remote adds the remote Berlin job.
    let near = format!("{all}&lat=51.5074&lon=-0.1278&radius_km=100");
    let mut got = hit_ids(&s.get(&format!("/search/jobs?{near}"), None).await);
    got.sort();
    let mut want = vec![a[0].clone(), a[1].clone(), b[1].clone()];
    want.sort();
    assert_eq!(got, want);
    let r = s
        .get(
            &format!("/search/jobs?{all}&lat=51.5074&lon=-0.1278&radius_km=20&include_remote=true"),
            None,
        )
        .await;
    assert_eq!(hit_ids(&r).len(), 3, "London x2 + remote: {r:?}");

    // Salary overlap, per period; jobs without a salary stay unless has_salary.
    let r = s
        .get(
            &format!("/search/jobs?{all}&salary_min=5500&salary_period=month&currency=GBP"),
            None,
        )
        .await;
    assert_eq!(hit_ids(&r).len(), 4 - 1, "Alpha tops out at 60k < 66k: {r:?}");
    let r = s
        .get(&format!("/search/jobs?{all}&salary_min=55000&currency=GBP&has_salary=true"), None)
        .await;
    assert_eq!(hit_ids(&r).len(), 2, "{r:?}");
    // Amounts past what the index holds as a year (2^31 - 1) search as that ceiling; they
    // were refused by the engine (a 500).
    let r = s
        .get(
            &format!("/search/jobs?{all}&salary_min=1000000000&salary_period=hour&currency=GBP&has_salary=true"),
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), hit_ids(&r).len()), (200, 0), "{r:?}");
    let r = s
        .get(
            &format!("/search/jobs?{all}&salary_max=1000000000&salary_period=hour&currency=GBP"),
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), hit_ids(&r).len()), (200, 4), "{r:?}");

    // Location text.
    for place in ["London", "London,%20United%20Kingdom", "GB"] {
        let r = s.get(&format!("/search/jobs?{all}&location={place}"), None).await;
        assert!(has(&r, &a[0]) && !has(&r, &b[0]), "{place}: {r:?}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_to_the_end_without_duplicates_and_sorts() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Pager").await;
    let mut posted = Vec::new();
    for i in 0..7 {
        let salary = json!({"min": 1000 * i + 1000, "max": 1000 * i + 2000, "currency": "EUR", "period": "month"});
        posted.push(
            employer
                .post_job(
                    &company,
                    &category,
                    json!({"title": format!("Pageable role {i}"), "status": "published", "salary": salary}),
                )
                .await,
        );
    }
    let base = format!("/search/jobs?company_id={company}&limit=3");
    s.get_until(&base, None, SOON, |r| r.body["total"] == 7).await;
    for sort in ["date", "salary", "relevance&q=pageable"] {
        let (mut seen, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let path = match &cursor {
                Some(c) => format!("{base}&sort={sort}&cursor={c}"),
                None => format!("{base}&sort={sort}"),
            };
            let r = s.get(&path, None).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            seen.extend(hit_ids(&r));
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (7, 7), "sort {sort}: {seen:?}");
        if sort == "date" {
            assert_eq!(seen, posted.iter().rev().cloned().collect::<Vec<_>>(), "newest first");
        }
        if sort == "salary" {
            assert_eq!(seen[0], posted[6], "best paid first");
        }
    }
    let r = s.get(&format!("{base}&posted_within=1"), None).await;
    assert_eq!(r.body["total"], 7, "posted today: {r:?}");
    let r = s.get(&format!("{base}&cursor=forged"), None).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_cursor"))
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_4xx_with_details_never_500() {
    let s = TestStack::start_with(false, false).await;
    let r = s.get("/search/jobs?lat=100&sort=cheap&workplace=moon&limit=51", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert_error_body(&r);
    for junk in [
        "q=%00%ff",
        "limit=0",
        "limit=-2147483648",
        "salary_min=1e99&currency=EUR",
        "radius_km=5",
        "posted_within=9999",
        "sort=relevance",
        "include_remote=true",
        "q=(((((",
        "location=%22%5D%7D",
        "cursor=%25%25",
        "category=Not%20A%20Slug",
    ] {
        let r = s.get(&format!("/search/jobs?{junk}"), None).await;
        assert!(r.status.is_client_error() || r.status == StatusCode::OK, "{junk}: {r:?}");
    }
    for path in [
        "/search/suggest?q=".to_string() + &"x".repeat(101),
        "/search/companies?country=Germany".into(),
        "/search/companies?limit=0".into(),
    ] {
        let r = s.get(&path, None).await;
        assert!(r.status.is_client_error(), "{path}: {r:?}");
        assert_error_body(&r);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_and_company_search() {
    let s = TestStack::start().await;
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Zephyrine Labs").await;
    let other = employer.create_company("Quokka Works").await;
    let job = employer
        .post_job(
            &company,
            &category,
            json!({"title": "Kubernetes platform lead", "status": "published", "skills": ["Kubernetes", "Helm"]}),
        )
        .await;
    found(&s, "q=kubernetes", &job, SOON).await;
    let suggest = |q: &str| format!("/search/suggest?q={q}");
    let r = s.get(&suggest("kube"), None).await;
    let texts: Vec<(String, String)> = r.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["text"].as_str().unwrap().to_string(), x["kind"].as_str().unwrap().to_string()))
        .collect();
    assert!(texts.contains(&("Kubernetes platform lead".into(), "title".into())), "{texts:?}");
    assert!(texts.contains(&("Kubernetes".into(), "skill".into())), "{texts:?}");
    let r = s.get(&suggest("kuberntes"), None).await;
    let kinds: Vec<&str> = r.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"title") && kinds.contains(&"skill"), "typo tolerant: {r:?}");
    let r = s.get(&suggest("zephy"), None).await;
    assert!(
        r.body["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["text"] == "Zephyrine Labs" && x["kind"] == "company"),
        "{r:?}"
    );
    let r = s.get(&suggest("k"), None).await;
    assert_eq!(r.body["suggestions"], json!([]), "one character suggests nothing");

    // Companies: fuzzy name, open-job counts kept by the job transactions.
    assert_eq!(s.get(&format!("/companies/{company}"), None).await.body["open_job_count"], 1);
    assert_eq!(s.get(&format!("/companies/{other}"), None).await.body["open_job_count"], 0);
    let r = s
        .get_until("/search/companies?q=zephyrin", None, SOON, |r| r.body["items"][0]["open_jobs"] == 1)
        .await;
    assert_eq!(r.body["items"][0]["id"], company.as_str());
    let r = s
        .get_until("/search/companies?q=quoka", None, SOON, |r| !hit_ids(r).is_empty())
        .await;
    assert_eq!(hit_ids(&r), vec![other]);
    s.shutdown().await;
}
