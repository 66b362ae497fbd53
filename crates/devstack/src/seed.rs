//! Demo data for a local stack, loaded through the public API like a client would: an admin's
//! categories, employers with companies and a few hundred jobs, seekers with profiles, a
//! couple of reports. `make seed` runs it against `make dev`; a test runs it small.

use std::time::Duration;

use serde_json::{json, Value};

/// Every seeded account's password (local demo data only).
pub const DEMO_PASSWORD: &str = "demo password 2026";

#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub employers: usize,
    pub jobs_per_employer: usize,
    pub seekers: usize,
}

impl Scale {
    /// About 300 jobs.
    pub const DEMO: Scale = Scale {
        employers: 12,
        jobs_per_employer: 25,
        seekers: 40,
    };
    /// A handful of each, for the contract run (`make test`): every kind of resource exists.
    pub const SMALL: Scale = Scale {
        employers: 2,
        jobs_per_employer: 3,
        seekers: 3,
    };
}

#[derive(Debug, Default)]
pub struct Seeded {
    pub categories: usize,
    pub companies: usize,
    pub jobs: usize,
    pub seekers: usize,
    pub reports: usize,
    /// One employer's and one seeker's email (the password is [`DEMO_PASSWORD`]).
    pub demo_employer: String,
    pub demo_seeker: String,
}

/// A small deterministic generator: the same data every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const CATEGORIES: [(&str, &str); 10] = [
    ("Engineering", "Software, infrastructure and hardware"),
    ("Design", "Product, visual and UX design"),
    ("Product", "Product management and ownership"),
    ("Marketing", "Growth, content and brand"),
    ("Sales", "Account executives and business development"),
    ("Customer Support", "Helping customers succeed"),
    ("Finance", "Accounting, controlling and FP&A"),
    ("Operations", "Logistics, facilities and business operations"),
    ("Data & Analytics", "Data engineering, science and BI"),
    ("Human Resources", "People, recruiting and culture"),
];

const COMPANIES: [(&str, &str, &str); 12] = [
    ("Nordlicht Energy", "Renewables", "51-200"),
    ("Tidewater Logistics", "Logistics", "201-500"),
    ("Kestrel Health", "Healthcare", "501-1000"),
    ("Blue Fern Studios", "Games", "11-50"),
    ("Aurora Payments", "Fintech", "201-500"),
    ("Granite & Oak", "Construction", "1001-5000"),
    ("Lumen Learning", "Education", "51-200"),
    ("Harbor Robotics", "Robotics", "11-50"),
    ("Cedar Foods", "Food", "501-1000"),
    ("Meridian Travel", "Travel", "201-500"),
    ("Quill Legal", "Legal tech", "11-50"),
    ("Vantage Analytics", "Software", "51-200"),
];

const PLACES: [(&str, &str, f64, f64); 10] = [
    ("Berlin", "DE", 52.52, 13.405),
    ("Munich", "DE", 48.137, 11.575),
    ("Hamburg", "DE", 53.551, 9.994),
    ("Amsterdam", "NL", 52.37, 4.895),
    ("Lisbon", "PT", 38.722, -9.139),
    ("Vienna", "AT", 48.208, 16.373),
    ("Zurich", "CH", 47.377, 8.541),
    ("London", "GB", 51.507, -0.128),
    ("Barcelona", "ES", 41.385, 2.173),
    ("Warsaw", "PL", 52.23, 21.012),
];

const ROLES: [(&str, usize, &[&str]); 20] = [
    ("Backend Engineer", 0, &["Rust", "PostgreSQL", "AWS"]),
    ("Frontend Engineer", 0, &["TypeScript", "React", "CSS"]),
    ("Mobile Engineer (Flutter)", 0, &["Flutter", "Dart", "Firebase"]),
    ("Site Reliability Engineer", 0, &["Kubernetes", "Terraform", "Prometheus"]),
    ("Product Designer", 1, &["Figma", "Prototyping", "User research"]),
    ("UX Researcher", 1, &["Interviews", "Usability testing"]),
    ("Product Manager", 2, &["Roadmaps", "Discovery", "SQL"]),
    ("Product Owner", 2, &["Scrum", "Backlog management"]),
    ("Content Marketing Manager", 3, &["SEO", "Copywriting"]),
    ("Performance Marketer", 3, &["Google Ads", "Analytics"]),
    ("Account Executive", 4, &["Negotiation", "CRM"]),
    ("Sales Development Representative", 4, &["Prospecting", "Cold calling"]),
    ("Customer Success Manager", 5, &["Onboarding", "Zendesk"]),
    ("Support Specialist", 5, &["Ticketing", "Communication"]),
    ("Financial Controller", 6, &["IFRS", "Excel", "SAP"]),
    ("Accountant", 6, &["Bookkeeping", "DATEV"]),
    ("Operations Manager", 7, &["Process design", "Lean"]),
    ("Data Engineer", 8, &["Python", "Spark", "dbt"]),
    ("Data Scientist", 8, &["Python", "Statistics", "ML"]),
    ("Recruiter", 9, &["Sourcing", "Interviewing", "ATS"]),
];

const FIRST: [&str; 16] = [
    "Anna",
    "Ben",
    "Chiara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hamid",
    "Ines",
    "Jonas",
    "Katarzyna",
    "Luca",
    "Maya",
    "Nils",
    "Olga",
    "Pedro",
];
const LAST: [&str; 12] = [
    "Schmidt", "Jansen", "Rossi", "Kowalski", "Yilmaz", "Silva", "Novak", "Berg", "Dubois", "Fischer", "Moreau", "Costa",
];

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>, token: Option<&str>) -> Result<(u16, Value), String> {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
    async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Result<Value, String> {
        match self.call(reqwest::Method::POST, path, Some(body), token).await? {
            (200..=299, b) => Ok(b),
            (s, b) => Err(format!("POST {path}: {s} {b}")),
        }
    }
    async fn patch(&self, path: &str, body: Value, token: Option<&str>) -> Result<Value, String> {
        match self.call(reqwest::Method::PATCH, path, Some(body), token).await? {
            (200..=299, b) => Ok(b),
            (s, b) => Err(format!("PATCH {path}: {s} {b}")),
        }
    }
    /// Registers, or logs in when the account exists (a second run); the access token, the
    /// account id and whether the account is new.
    async fn account(&self, email: &str, role: &str, name: &str) -> Result<(String, String, bool), String> {
        let body = json!({"email": email, "password": DEMO_PASSWORD, "role": role, "full_name": name});
        let token_and_id = |b: &Value| {
            (
                b["access_token"].as_str().unwrap_or_default().to_string(),
                b["user"]["id"].as_str().unwrap_or_default().to_string(),
            )
        };
        match self.call(reqwest::Method::POST, "/auth/register", Some(body), None).await? {
            (201, b) => {
                let (t, id) = token_and_id(&b);
                Ok((t, id, true))
            }
            (409, _) => {
                let b = self
                    .post("/auth/login", json!({"email": email, "password": DEMO_PASSWORD}), None)
                    .await?;
                let (t, id) = token_and_id(&b);
                Ok((t, id, false))
            }
            (s, b) => Err(format!("register {email}: {s} {b}")),
        }
    }
}

/// Loads the demo data into the platform at `base` (e.g. `http://127.0.0.1:3000`), with
/// `admin_token` for the categories; `operator` (the table) vouches for the demo employers'
/// addresses, which have no mailbox to read a verification code from.
pub async fn run(base: &str, admin_token: &str, operator: &common::App, scale: Scale) -> Result<Seeded, String> {
    search::engine::install_tls_provider();
    let c = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?,
        base: base.trim_end_matches('/').to_string(),
    };
    let mut out = Seeded::default();
    let slugs = categories(&c, admin_token, &mut out).await?;
    let mut rng = Rng(0x5EED_2026_0000_0001);
    let first_job = employers(&c, admin_token, operator, scale, &slugs, &mut rng, &mut out).await?;
    seekers(&c, scale, first_job.as_deref(), &mut rng, &mut out).await?;
    Ok(out)
}

/// The categories (admins create them); their slugs, new or seeded before.
async fn categories(c: &Client, admin_token: &str, out: &mut Seeded) -> Result<Vec<String>, String> {
    let mut slugs = Vec::new();
    for (name, description) in CATEGORIES {
        match c
            .call(
                reqwest::Method::POST,
                "/categories",
                Some(json!({"name": name, "description": description})),
                Some(admin_token),
            )
            .await?
        {
            (201, b) => {
                out.categories += 1;
                slugs.push(b["slug"].as_str().unwrap_or_default().to_string());
            }
            (409, _) => slugs.push(slug::slugify(name)),
            (s, b) => return Err(format!("category {name}: {s} {b}")),
        }
    }
    Ok(slugs)
}

/// Employers with verified addresses, their companies and jobs (some featured by an admin);
/// the first published job of the first new employer.
async fn employers(
    c: &Client,
    admin_token: &str,
    operator: &common::App,
    scale: Scale,
    slugs: &[String],
    rng: &mut Rng,
    out: &mut Seeded,
) -> Result<Option<String>, String> {
    let mut first_job = None;
    for e in 0..scale.employers {
        let (company, industry, size) = COMPANIES[e % COMPANIES.len()];
        let email = format!("hiring{e}@{}.example", company.to_lowercase().replace([' ', '&'], ""));
        if e == 0 {
            out.demo_employer = email.clone();
        }
        let (token, id, new) = c
            .account(&email, "employer", &format!("{} {}", FIRST[e % 16], LAST[e % 12]))
            .await?;
        if !new {
            continue; // seeded before
        }
        auth::admin::vouch_for_email(operator, &id)
            .await
            .map_err(|e| format!("verifying {email}: {}", e.message))?;
        let (city, country, _, _) = PLACES[e % PLACES.len()];
        let co = c
            .post(
                "/companies",
                json!({"name": company, "industry": industry, "size": size,
                       "description": format!("{company} is a {} company based in {city}.", industry.to_lowercase()),
                       "website": format!("https://{}.example", company.to_lowercase().replace([' ', '&'], "")),
                       "location": {"city": city, "country": country}}),
                Some(&token),
            )
            .await?;
        out.companies += 1;
        let company_id = co["id"].as_str().unwrap_or_default().to_string();
        for j in 0..scale.jobs_per_employer {
            let body = job_body(rng, company, &company_id, slugs);
            let mut job = c.post("/jobs", body, Some(&token)).await?;
            out.jobs += 1;
            // Admins feature jobs.
            if rng.chance(8) {
                let path = format!("/admin/jobs/{}", job["id"].as_str().unwrap_or_default());
                job = c.patch(&path, json!({"featured": true}), Some(admin_token)).await?;
            }
            if j == 0 && first_job.is_none() && job["status"] == "published" {
                first_job = job["id"].as_str().map(str::to_string);
            }
        }
    }
    Ok(first_job)
}

/// One job of `company`: a role, a place, a level and its pay, drawn from `rng`.
fn job_body(rng: &mut Rng, company: &str, company_id: &str, slugs: &[String]) -> serde_json::Value {
    let (title, cat, skills) = *rng.pick(&ROLES);
    let (city, country, lat, lon) = *rng.pick(&PLACES);
    let level = *rng.pick(&["entry", "mid", "mid", "senior", "senior", "lead", "executive"]);
    let base_pay: u64 = match level {
        "entry" => 38_000,
        "mid" => 52_000,
        "senior" => 70_000,
        "lead" => 85_000,
        _ => 110_000,
    };
    let currency = match country {
        "GB" => "GBP",
        "CH" => "CHF",
        "PL" => "PLN",
        _ => "EUR",
    };
    let mut body = json!({
        "company_id": company_id,
        "title": format!("{}{title}", if level == "senior" { "Senior " } else if level == "lead" { "Lead " } else { "" }),
        "description": format!("Join {company} as a {title} in {city}. You will work with a small, senior team on problems that matter."),
        "requirements": format!("Experience with {}.", skills.join(", ")),
        "responsibilities": "Own your area end to end, from discovery to delivery.",
        "benefits": "30 days of holiday, learning budget, flexible hours.",
        "location": {"city": city, "country": country, "lat": lat, "lon": lon},
        "workplace": *rng.pick(&["on_site", "remote", "hybrid", "hybrid"]),
        "employment_type": *rng.pick(&["full_time", "full_time", "full_time", "part_time", "contract", "temporary", "internship"]),
        "experience_level": level,
        "category": slugs[cat % slugs.len()],
        "skills": skills,
        "status": if rng.chance(8) { "draft" } else { "published" },
    });
    if rng.chance(80) {
        let spread = 10_000 + (rng.below(4) as u64) * 5_000;
        body["salary"] = json!({"min": base_pay, "max": base_pay + spread, "currency": currency, "period": "year"});
    }
    if rng.chance(30) {
        let days = 14 + rng.below(60) as i64;
        body["application_deadline"] = json!(common::time::rfc3339(common::time::now_secs() + days * 86_400));
    }
    body
}

/// Seekers with profiles; the first two report `first_job`.
async fn seekers(c: &Client, scale: Scale, first_job: Option<&str>, rng: &mut Rng, out: &mut Seeded) -> Result<(), String> {
    for i in 0..scale.seekers {
        let (first, last) = (FIRST[i % 16], LAST[(i * 7) % 12]);
        let email = format!("{}.{}{i}@seekers.example", first.to_lowercase(), last.to_lowercase());
        if i == 0 {
            out.demo_seeker = email.clone();
        }
        let (token, _, new) = c.account(&email, "seeker", &format!("{first} {last}")).await?;
        if !new {
            continue;
        }
        let (title, _, skills) = *rng.pick(&ROLES);
        let (city, country, _, _) = *rng.pick(&PLACES);
        let profile = json!({
            "headline": format!("{title} looking for the next challenge"),
            "location": {"city": city, "country": country},
            "skills": skills,
            "visibility": if rng.chance(75) { "public" } else { "private" },
            "available_for_hire": rng.chance(70),
            "links": {"github": format!("https://github.example/{}{i}", first.to_lowercase())},
        });
        match c.call(reqwest::Method::PATCH, "/me/profile", Some(profile), Some(&token)).await? {
            (200, _) => out.seekers += 1,
            (s, b) => return Err(format!("profile of {email}: {s} {b}")),
        }
        if let (Some(job), true) = (first_job, i < 2) {
            c.post(
                &format!("/jobs/{job}/reports"),
                json!({"reason": "spam", "details": "Posted three times"}),
                Some(&token),
            )
            .await?;
            out.reports += 1;
        }
    }
    Ok(())
}
