//! `make seed`: demo data in the running local stack (`make dev`): categories, companies,
//! about 300 jobs, seekers with profiles, a couple of reports, all through the API.
//!
//! The admin that creates the categories is made directly in the table, like `make admin`
//! (TABLE_NAME, or `<LOCAL_PREFIX>-Table`; AWS_ENDPOINT_URL for the stand-in).
//!
//! `--small` seeds a handful of each; `--json` prints the accounts as one JSON line
//! (`{"admin", "employer", "seeker", "password"}`) for scripts (the contract run).

use devstack::seed::{self, Scale, DEMO_PASSWORD};

const ADMIN: &str = "admin@seed.example";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    search::engine::install_tls_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .windows(2)
        .find(|w| w[0] == "--url")
        .map(|w| w[1].clone())
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let (app, _) = devstack::tool_app().await;
    // A second run finds the admin there already; logging in below tells.
    let _ = auth::admin::create_admin(&app, ADMIN, DEMO_PASSWORD, "Seed Admin").await;
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{url}/auth/login"))
        .json(&serde_json::json!({"email": ADMIN, "password": DEMO_PASSWORD}))
        .send()
        .await;
    let token = match login {
        Ok(r) if r.status().is_success() => r
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|b| b["access_token"].as_str().map(str::to_string)),
        Ok(r) => {
            eprintln!("admin login failed: {} (is `make dev` running on {url}?)", r.status());
            None
        }
        Err(e) => {
            eprintln!("cannot reach {url}: {e} (start `make dev` first)");
            None
        }
    };
    let Some(token) = token else { std::process::exit(1) };
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let scale = if has("--small") { Scale::SMALL } else { Scale::DEMO };
    match seed::run(&url, &token, &app, scale).await {
        Ok(s) if has("--json") => println!(
            "{}",
            serde_json::json!({"admin": ADMIN, "employer": s.demo_employer, "seeker": s.demo_seeker, "password": DEMO_PASSWORD})
        ),
        Ok(s) => {
            println!(
                "seeded {} categories, {} companies, {} jobs, {} seekers, {} reports",
                s.categories, s.companies, s.jobs, s.seekers, s.reports
            );
            println!(
                "log in with password {DEMO_PASSWORD:?} as {ADMIN} (admin), {} (employer) or {} (seeker)",
                s.demo_employer, s.demo_seeker
            );
        }
        Err(e) => {
            eprintln!("seeding failed: {e}");
            std::process::exit(1);
        }
    }
}
