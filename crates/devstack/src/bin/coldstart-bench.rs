//! `make bench`: for every function of template.yaml, the release size of the crate binary
//! that serves it, and, started as Lambda starts it (`_HANDLER`, its configuration, AWS at
//! the stand-in that `make bench` starts): init (exec -> first poll), the cold invocation
//! (exec -> response to a real first event: init plus the SDK clients created on it) and
//! warm invocations after it, p50/p95 (see `devstack::bench`).
//!
//! HTTP functions get their route's event with the first role whose token the route does
//! not refuse (none, seeker, employer, admin: real accounts in a provisioned table) and `{}`
//! as the body of writes; the others get their sample under events/lambda/.
//!
//! usage: coldstart-bench <release dir> [starts per function] [warm invocations per start]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use common::runtime::Kind;
use common::token::Role;
use devstack::bench::{http_event, process_env, quantile_ms, run, sample, status_of};
use devstack::template::{FunctionEvent, Template};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().cloned().unwrap_or_else(|| "target/release".into()));
    let starts: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(10);
    let warm: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(20);
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL: run through `make bench`, which starts the AWS stand-in");
    let t = Template::load(&devstack::default_template()).expect("template.yaml");
    let sdk = devstack::load_sdk_config().await;
    let params = HashMap::from([("MailFrom".to_string(), "bench@jobs.example.com".to_string())]);
    // As locally: the per-IP budgets must not turn the timed invocations into 429s.
    let mut params = params;
    params.extend(devstack::scaled_rate_limits(&t, devstack::LOCAL_RATE_LIMIT_FACTOR, &params).expect("rate limits"));
    let stack = devstack::provision::provision(&t, &sdk, &format!("bench{}", ulid::Ulid::new().to_string().to_lowercase()), &params)
        .await
        .expect("resources provisioned");
    let all_env = stack.function_env(&t).expect("environment");
    let settings = common::app::Settings::from_lookup(|k| all_env.get(k).cloned()).expect("settings");
    let app = common::App::new(settings, sdk.clone());
    app.refresh_secrets()
        .await
        .expect("the key rings in the stand-in's Secrets Manager");
    let kinds = devstack::functions();
    // WebSocket route of each WebSocket function ($connect, $disconnect).
    let ws_routes: HashMap<String, String> = t
        .websocket_routes()
        .expect("WebSocket routes")
        .into_iter()
        .map(|(key, handler)| (handler, key))
        .collect();

    let mut functions = t.functions().expect("functions");
    functions.sort_by(|a, b| (&a.binary, &a.handler).cmp(&(&b.binary, &b.handler)));
    println!("| function (binary) | size (MiB) | init p50 (ms) | cold invocation p50 / p95 (ms) | warm p50 / p95 (ms) | first answer |");
    println!("|---|---:|---:|---:|---:|---|");
    let mut worst = (0.0f64, 0.0f64);
    for f in &functions {
        let binary = dir.join(&f.binary);
        let Ok(meta) = std::fs::metadata(&binary) else {
            println!("| {} ({}) | missing | | | | |", f.handler, f.binary);
            continue;
        };
        let env = process_env(&t, &stack, f, &endpoint);
        let websocket = matches!(kinds[f.handler.as_str()], Kind::WebSocket(_));
        if f.events.is_empty() && !websocket {
            // Invoked by hand (the search rebuild): how long it runs is the data's, not a start's.
            println!(
                "| {} ({}) | {:.2} | invoked by hand, not timed | | | |",
                f.handler,
                f.binary,
                meta.len() as f64 / 1048576.0
            );
            continue;
        }
        let event = match (&kinds[f.handler.as_str()], f.events.first()) {
            (Kind::Http(_), Some(FunctionEvent::Http { method, path })) => {
                // Fresh accounts per function: some routes erase or change theirs.
                let tokens = accounts(&app).await;
                choose_http_event(&binary, &env, method, path, &tokens).await
            }
            (Kind::Consumer(..) | Kind::Batch(_), _) => sample("sqs-user-registered.json"),
            (Kind::StreamRelay, _) => sample("stream-outbox-insert.json"),
            (Kind::Scheduled(_), _) => sample("schedule-jobs-expire.json"),
            (Kind::S3(_), _) => sample("s3-resume-uploaded.json"),
            // $connect with a seeker's token (a stored connection); $disconnect forgets it.
            (Kind::WebSocket(_), _) if ws_routes.get(&f.handler).map(String::as_str) == Some("$connect") => {
                let token = accounts(&app).await.into_iter().flatten().next().expect("a token");
                String::from_utf8(sample("websocket-connect.json"))
                    .expect("UTF-8")
                    .replace("<an access token>", &token)
                    .into_bytes()
            }
            (Kind::WebSocket(_), _) => sample("websocket-disconnect.json"),
            _ => sample("http-health.json"),
        };
        let (mut init, mut cold, mut warm_all) = (Vec::new(), Vec::new(), Vec::new());
        let mut answer = String::new();
        for _ in 0..starts {
            match run(&binary, &env, vec![event.clone(); 1 + warm], Duration::from_secs(30)).await {
                Ok(r) => {
                    init.extend(r.init);
                    cold.extend(r.cold);
                    warm_all.extend(r.warm);
                    if answer.is_empty() {
                        answer = match r.responses.first().and_then(|b| status_of(b)) {
                            Some(s) => s.to_string(),
                            None if r.errors > 0 => "error".into(),
                            None => "ok".into(),
                        };
                    }
                }
                Err(e) => {
                    eprintln!("{}: {e}", f.handler);
                    break;
                }
            }
        }
        for v in [&mut init, &mut cold, &mut warm_all] {
            v.sort();
        }
        worst.0 = worst.0.max(quantile_ms(&cold, 0.5));
        worst.1 = worst.1.max(quantile_ms(&warm_all, 0.5));
        println!(
            "| {} ({}) | {:.2} | {:.1} | {:.1} / {:.1} | {:.2} / {:.2} | {} |",
            f.handler,
            f.binary,
            meta.len() as f64 / 1048576.0,
            quantile_ms(&init, 0.5),
            quantile_ms(&cold, 0.5),
            quantile_ms(&cold, 0.95),
            quantile_ms(&warm_all, 0.5),
            quantile_ms(&warm_all, 0.95),
            answer
        );
    }
    println!(
        "\n{starts} starts per function, {warm} warm invocations after each; worst cold invocation p50 {:.1} ms, worst warm p50 {:.2} ms",
        worst.0, worst.1
    );
}

/// A seeker, an employer and an admin in the bench table, with access tokens.
async fn accounts(app: &common::App) -> Vec<Option<String>> {
    let mut out = vec![None];
    let now = common::time::now_secs();
    for role in [Role::Seeker, Role::Employer, Role::Admin] {
        let email = format!("{}@bench.example.com", ulid::Ulid::new().to_string().to_lowercase());
        let hash = auth::passwords::hash("bench password 2026".into()).await.expect("hash");
        let mut account = auth::store::Account::new(ulid::Ulid::new().to_string(), email, role, "Bench".into(), hash);
        account.email_verified = true; // so writes that need a verified address succeed
        auth::store::create_account(app, &account, None, common::events::Actor::System)
            .await
            .expect("account");
        out.push(Some(
            app.tokens()
                .expect("signing keys")
                .access_token(&account.id, role, "bench", now)
                .expect("token"),
        ));
    }
    out
}

/// The route's event with the first token it does not refuse (401/403).
async fn choose_http_event(
    binary: &std::path::Path,
    env: &HashMap<String, String>,
    method: &str,
    path: &str,
    tokens: &[Option<String>],
) -> Vec<u8> {
    let body = matches!(method, "POST" | "PUT" | "PATCH").then_some("{}");
    let events: Vec<Vec<u8>> = tokens.iter().map(|t| http_event(method, path, t.as_deref(), body)).collect();
    if let Ok(r) = run(binary, env, events.clone(), Duration::from_secs(30)).await {
        for (i, resp) in r.responses.iter().enumerate() {
            if !matches!(status_of(resp), Some(401 | 403)) {
                return events[i].clone();
            }
        }
    }
    events[0].clone()
}
