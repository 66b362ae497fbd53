//! `make bench`: for every function of template.yaml, the release size of the crate binary
//! that serves it and its cold start: the time from exec (with `_HANDLER` naming the
//! function, as Lambda sets it) to its first poll of the Lambda Runtime API, served here by a
//! minimal Runtime API on loopback. The functions start with their real configuration
//! (settings, SDK config); clients are created lazily, as in production.
//!
//! usage: coldstart-bench <release dir> [runs]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().cloned().unwrap_or_else(|| "target/release".into()));
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(25);
    let t = devstack::template::Template::load(&devstack::default_template()).expect("template.yaml");
    let mut functions: Vec<(String, String)> = t
        .functions()
        .expect("functions")
        .into_iter()
        .map(|f| (f.binary, f.handler))
        .collect();
    functions.sort();

    println!("| function (binary) | size (MiB) | cold start p50 (ms) | p95 (ms) | min (ms) |");
    println!("|---|---:|---:|---:|---:|");
    let mut all_p50 = Vec::new();
    for (binary, handler) in &functions {
        let b = format!("{handler} ({binary})");
        let path = dir.join(binary);
        let Ok(meta) = std::fs::metadata(&path) else {
            println!("| {b} | missing | | | |");
            continue;
        };
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            match cold_start(&path, handler).await {
                Ok(d) => samples.push(d),
                Err(e) => {
                    eprintln!("{b}: {e}");
                    break;
                }
            }
        }
        if samples.is_empty() {
            println!("| {b} | {:.2} | failed | | |", meta.len() as f64 / 1048576.0);
            continue;
        }
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        all_p50.push(ms(p(0.5)));
        println!(
            "| {b} | {:.2} | {:.1} | {:.1} | {:.1} |",
            meta.len() as f64 / 1048576.0,
            ms(p(0.5)),
            ms(p(0.95)),
            ms(samples[0])
        );
    }
    if !all_p50.is_empty() {
        let worst = all_p50.iter().cloned().fold(0.0, f64::max);
        println!("\n{runs} starts per function; worst p50 {worst:.1} ms (target: under 20 ms)");
    }
}

/// One start: exec -> first `GET /2018-06-01/runtime/invocation/next`.
async fn cold_start(binary: &PathBuf, handler: &str) -> Result<Duration, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env(common::runtime::HANDLER_VAR, handler)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("TABLE_NAME", "bench-Table")
        .env("EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:bench")
        .env("MAIL_FROM", "no-reply@jobs.example.com")
        .env("JWT_SECRET", "bench-secret-bench-secret-bench-secret-0123")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("exec: {e}"))?;
    let result = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let (mut sock, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 2048];
            let n = sock.read(&mut buf).await.map_err(|e| e.to_string())?;
            if String::from_utf8_lossy(&buf[..n]).starts_with("GET /2018-06-01/runtime/invocation/next") {
                return Ok::<_, String>(started.elapsed());
            }
        }
    })
    .await;
    let _ = child.kill().await;
    result.map_err(|_| "no Runtime API poll within 5 s".to_string())?
}
