//! `make bench` (last part): the cost of matching a new job against saved searches.
//!
//! A local stack (the stand-ins `make bench` starts) gets N saved searches (default 10 000,
//! a seeded mix of words, categories, places, workplaces and salaries, as the indexer
//! writes them) and then, per sample job, runs the alert matcher: reverse filters over the
//! saved-searches index, then each candidate's own query in one `_msearch` per 100. Prints
//! candidates, matches, engine requests and wall time per job.
//!
//! usage: alert-bench [saved searches] [sample jobs]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use search::alerts::SavedDoc;
use search::engine::BulkOp;
use search::mappings::IndexKind;
use serde_json::{json, Map, Value};

/// A small deterministic generator (no dependency for a benchmark's dice).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() as usize) % from.len()]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: &[&str] = &[
    "rust",
    "python",
    "java",
    "golang",
    "kubernetes",
    "react",
    "frontend",
    "backend",
    "data",
    "engineer",
    "developer",
    "designer",
    "manager",
    "nurse",
    "teacher",
    "accountant",
    "sales",
    "marketing",
    "support",
    "analyst",
    "devops",
    "security",
    "cloud",
    "mobile",
    "ios",
    "android",
    "product",
    "warehouse",
    "driver",
    "chef",
    "welder",
    "electrician",
    "lawyer",
    "recruiter",
    "scientist",
    "researcher",
    "ml",
    "sre",
    "qa",
    "ux",
    "writer",
    "editor",
    "architect",
    "consultant",
    "operations",
    "finance",
    "logistics",
    "pharmacist",
    "mechanic",
    "carpenter",
];
const COUNTRIES: &[&str] = &["DE", "GB", "FR", "NL", "ES", "IT", "PL", "SE", "US", "CA"];
const WORKPLACES: &[&str] = &["remote", "hybrid", "on_site"];
const LEVELS: &[&str] = &["entry", "mid", "senior", "lead"];
const FREQUENCIES: &[&str] = &["instant", "daily", "weekly"];

fn query(d: &mut Dice, categories: &[String]) -> Map<String, Value> {
    let mut q = Map::new();
    if d.chance(75) {
        let n = 1 + d.next() % 3;
        let words: Vec<&str> = (0..n).map(|_| d.pick(WORDS)).collect();
        q.insert("q".into(), json!(words.join(" ")));
    }
    if d.chance(50) {
        q.insert("category".into(), json!(categories[(d.next() as usize) % categories.len()]));
    }
    if d.chance(35) {
        q.insert("country".into(), json!(d.pick(COUNTRIES)));
    }
    if d.chance(30) {
        q.insert("workplace".into(), json!(d.pick(WORKPLACES)));
    }
    if d.chance(20) {
        q.insert("experience_level".into(), json!(d.pick(LEVELS)));
    }
    if d.chance(15) {
        q.insert("salary_min".into(), json!(30_000 + 5_000 * (d.next() % 12)));
        q.insert("currency".into(), json!("EUR"));
    }
    q
}

/// POSTs `body` to the local gateway (with a token when given); the JSON answer.
async fn post(http: &reqwest::Client, url: String, body: Value, token: Option<&str>) -> Value {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("the gateway answers").json().await.expect("JSON")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let samples: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    search::engine::install_tls_provider();
    let running = devstack::start(devstack::Options {
        template: devstack::default_template(),
        prefix: format!("ab{}", &ulid::Ulid::new().to_string().to_lowercase()[16..]),
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        params: HashMap::from([("MailFrom".to_string(), "bench@jobs.example.com".to_string())]),
        run_relay: false,
        run_consumers: false,
        schedule_every: None,
        rate_limit_factor: devstack::LOCAL_RATE_LIMIT_FACTOR,
    })
    .await
    .expect("local stack");
    let app = running.app;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let admin_email = format!("bench-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    auth::admin::create_admin(app, &admin_email, "a long bench passphrase", "Bench")
        .await
        .expect("admin");
    let login = post(
        &http,
        format!("{base}/auth/login"),
        json!({"email": admin_email, "password": "a long bench passphrase"}),
        None,
    )
    .await;
    let admin = login["access_token"].as_str().unwrap().to_string();
    let mut categories = Vec::new();
    for name in [
        "Engineering",
        "Data",
        "Design",
        "Sales",
        "Health",
        "Education",
        "Logistics",
        "Finance",
    ] {
        let r = post(
            &http,
            format!("{base}/categories"),
            json!({"name": format!("{name} {}", ulid::Ulid::new())}),
            Some(&admin),
        )
        .await;
        categories.push(r["slug"].as_str().unwrap().to_string());
    }
    let reg = post(&http, format!("{base}/auth/register"), json!({"email": format!("emp-{}@example.com", ulid::Ulid::new()), "password": "a long bench passphrase", "role": "employer", "full_name": "Bench Employer"}), None).await;
    let employer = reg["access_token"].as_str().unwrap().to_string();
    // Employers verify their address before creating companies; the bench vouches.
    auth::admin::vouch_for_email(app, reg["user"]["id"].as_str().unwrap())
        .await
        .expect("verified");
    let company = post(&http, format!("{base}/companies"), json!({"name": "Bench Corp"}), Some(&employer)).await;
    let company = company["id"].as_str().unwrap().to_string();

    // The saved searches, written to the index as the indexer writes them (bulk, 1000 a request).
    let mut dice = Dice(2026);
    let created_at = common::time::rfc3339(common::time::now_secs() - 3600);
    let started = Instant::now();
    let mut ops = Vec::with_capacity(count);
    for i in 0..count {
        let saved = common::vocab::SavedSearch {
            id: ulid::Ulid::new().to_string(),
            user_id: format!("bench-user-{i}"),
            name: format!("search {i}"),
            query: query(&mut dice, &categories),
            frequency: serde_json::from_value(json!(dice.pick(FREQUENCIES))).unwrap(),
            created_at: created_at.clone(),
        };
        let doc = serde_json::to_value(SavedDoc::new(&saved).expect("a valid query")).unwrap();
        ops.push(BulkOp::Put {
            id: saved.id,
            version: 1,
            doc,
        });
    }
    search::engine::bulk(app, IndexKind::SavedSearches, ops)
        .await
        .expect("bulk indexing");
    println!("{count} saved searches indexed in {:.1} s", started.elapsed().as_secs_f64());

    println!("| job | candidates | matched | engine requests | matching (ms) |");
    println!("|---|---:|---:|---:|---:|");
    let mut times = Vec::new();
    let mut candidates = Vec::new();
    for i in 0..samples {
        let title = format!("{} {}", dice.pick(WORDS), dice.pick(WORDS));
        let body = json!({
            "company_id": company, "title": title, "description": format!("We need a {} to join us.", dice.pick(WORDS)),
            "location": {"city": "Somewhere", "country": dice.pick(COUNTRIES)}, "workplace": dice.pick(WORKPLACES),
            "employment_type": "full_time", "experience_level": dice.pick(LEVELS), "category": categories[i % categories.len()],
            "skills": [dice.pick(WORDS), dice.pick(WORDS)], "status": "published",
            "salary": {"min": 40000, "max": 70000, "currency": "EUR", "period": "year"}
        });
        let r = post(&http, format!("{base}/jobs"), body, Some(&employer)).await;
        let id = r["id"].as_str().expect("a job").to_string();
        search::indexer::sync_job(app, &id).await.unwrap();
        let job = jobs::get(app, &id).await.unwrap().unwrap();
        let doc = search::indexer::job_doc(app, &job).await.unwrap();
        let started = Instant::now();
        let (_, cost) = search::alerts::matching_with_cost(app, &job, &doc).await.unwrap();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!("| {title} | {} | {} | {} | {ms:.0} |", cost.candidates, cost.matched, cost.requests);
        times.push(ms);
        candidates.push(cost.candidates as f64);
    }
    times.sort_by(f64::total_cmp);
    candidates.sort_by(f64::total_cmp);
    let q = |v: &[f64], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "per job over {samples} jobs: candidates p50 {:.0} / p95 {:.0} of {count}; matching p50 {:.0} ms / p95 {:.0} ms",
        q(&candidates, 0.5),
        q(&candidates, 0.95),
        q(&times, 0.5),
        q(&times, 0.95)
    );
    running.shutdown().await;
}
