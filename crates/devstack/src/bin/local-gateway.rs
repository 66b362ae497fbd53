//! `make dev`: provisions template.yaml's resources in the running stand-in and serves the
//! whole platform on 127.0.0.1 (PORT, default 3000) until Ctrl-C or SIGTERM.

use std::collections::HashMap;
use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    lambda_runtime::tracing::init_default_subscriber();
    if let Err(e) = run().await {
        eprintln!("local gateway: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .map(|p| p.parse().map_err(|_| format!("PORT={p} is not a port")))
        .transpose()?
        .unwrap_or(3000);
    let prefix = std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "dev".into());
    // Key rings are generated into the stand-in's Secrets Manager, as CloudFormation does.
    let mut params = HashMap::new();
    // Browsers' origins: any by default for local web development.
    let origins = std::env::var("CORS_ALLOWED_ORIGINS").unwrap_or_else(|_| "*".into());
    params.insert("CorsAllowedOrigins".into(), origins.clone());
    println!("local gateway: CORS origins {origins}");
    if let Ok(m) = std::env::var("MAIL_FROM") {
        params.insert("MailFrom".into(), m);
    }
    // Budgets: the deployed ones times RATE_LIMIT_FACTOR (default 1000: demos and scripted
    // client suites from one address); RATE_LIMIT_FACTOR=1 runs with the deployed figures.
    let factor: u64 = match std::env::var("RATE_LIMIT_FACTOR") {
        Ok(f) => f
            .parse()
            .ok()
            .filter(|f| *f > 0)
            .ok_or(format!("RATE_LIMIT_FACTOR={f} is not a positive number"))?,
        Err(_) => devstack::LOCAL_RATE_LIMIT_FACTOR,
    };
    let template = std::env::var("TEMPLATE")
        .map(Into::into)
        .unwrap_or_else(|_| devstack::default_template());
    let running = devstack::start(devstack::Options {
        template,
        prefix: prefix.clone(),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        params,
        run_relay: true,
        run_consumers: true,
        schedule_every: None,
        rate_limit_factor: factor,
    })
    .await?;
    println!(
        "local gateway: {} routes on {} (resources prefixed '{prefix}-')",
        running.routes.len(),
        running.base_url()
    );
    for (m, p, b) in &running.routes {
        println!("  {m:6} {p:32} -> {b}");
    }
    if let Some(l) = &running.app.settings.rate_limits {
        let mut routes: Vec<_> = l.routes.iter().map(|(r, n)| format!("{r}={n}")).collect();
        routes.sort();
        println!(
            "local gateway: rate limits per {} s (the deployed ones x{factor}; RATE_LIMIT_FACTOR changes it): anonymous {} per IP, signed-in {} per account; {}",
            l.window_secs,
            l.anonymous,
            l.signed_in,
            routes.join(", ")
        );
    }
    println!(
        "local gateway: table {}, ready: GET {}/health",
        running.app.table(),
        running.base_url()
    );
    wait_for_signal().await;
    println!("local gateway: stopping");
    running.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
