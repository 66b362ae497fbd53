//! `make bench`: a minimal Lambda Runtime API on loopback that starts a function binary as
//! Lambda would (its configuration, `_HANDLER`) and measures, per start:
//!
//! - **init**: exec -> first `GET .../invocation/next` (Lambda's Init Duration);
//! - **cold invocation**: exec -> the response to the first real event (init, plus the SDK
//!   clients and connections created on that first request);
//! - **warm invocations**: event handed out -> response, for the events after it.
//!
//! The harness answers with Nagle disabled and each response in one write: lambda_runtime
//! keeps its connection alive, and with Nagle on every invocation would stall ~40 ms on
//! delayed ACKs, which would be the harness's, not the function's.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// What one started process did.
#[derive(Debug, Default)]
pub struct Run {
    /// exec -> first poll.
    pub init: Option<Duration>,
    /// exec -> first response.
    pub cold: Option<Duration>,
    /// event handed out -> response, for the later events.
    pub warm: Vec<Duration>,
    /// The responses' bodies (HTTP functions: the API Gateway response JSON), in order.
    pub responses: Vec<String>,
    /// Whether a response was an invocation error (`/error`).
    pub errors: usize,
    /// What the process wrote to stdout and stderr (CloudWatch Logs in Lambda), line by line.
    pub output: Vec<String>,
}

enum Report {
    Polled(Instant),
    Responded { at: Instant, body: String, error: bool },
}

struct Harness {
    events: Mutex<mpsc::UnboundedReceiver<Vec<u8>>>,
    reports: mpsc::UnboundedSender<Report>,
    /// When each event was handed out, in order.
    handed: Mutex<Vec<Instant>>,
}

async fn serve(h: Arc<Harness>, req: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if method == http::Method::GET && path == NEXT {
        let _ = h.reports.send(Report::Polled(Instant::now()));
        let event = h.events.lock().await.recv().await;
        let Some(event) = event else {
            // No more events: keep the function waiting until it is killed.
            std::future::pending::<()>().await;
            unreachable!()
        };
        let id = ulid::Ulid::new().to_string();
        let deadline = (std::time::SystemTime::now() + Duration::from_secs(60))
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let resp = hyper::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
            .body(Full::new(Bytes::from(event)))
            .expect("a valid response");
        let now = Instant::now();
        h.handed.lock().await.push(now);
        return Ok(resp);
    }
    if method == http::Method::POST {
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let at = Instant::now();
        let error = path.ends_with("/error");
        let _ = h.reports.send(Report::Responded {
            at,
            body: String::from_utf8_lossy(&body).into_owned(),
            error,
        });
    }
    Ok(hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("a valid response"))
}

/// Starts `binary` with `env`, hands it `events` one after another, and reports what it did.
/// Gives up after `limit`.
pub async fn run(binary: &Path, env: &HashMap<String, String>, events: Vec<Vec<u8>>, limit: Duration) -> Result<Run, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let expected = events.len();
    for e in events {
        let _ = event_tx.send(e);
    }
    drop(event_tx);
    let (report_tx, mut reports) = mpsc::unbounded_channel();
    let harness = Arc::new(Harness {
        events: Mutex::new(event_rx),
        reports: report_tx,
        handed: Mutex::new(Vec::new()),
    });
    let h = harness.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { break };
            let _ = socket.set_nodelay(true);
            let h = h.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| serve(h.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .writev(false)
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    });
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("exec {}: {e}", binary.display()))?;
    let readers = [
        child.stdout.take().map(|o| tokio::spawn(lines(o))),
        child.stderr.take().map(|e| tokio::spawn(lines(e))),
    ];
    let mut out = Run::default();
    let mut responded = 0;
    let outcome = tokio::time::timeout(limit, async {
        while let Some(r) = reports.recv().await {
            match r {
                Report::Polled(at) => {
                    out.init.get_or_insert(at - started);
                }
                Report::Responded { at, body, error } => {
                    let handed = harness.handed.lock().await.get(responded).copied();
                    if responded == 0 {
                        out.cold = Some(at - started);
                    } else if let Some(t) = handed {
                        out.warm.push(at - t);
                    }
                    out.errors += usize::from(error);
                    out.responses.push(body);
                    responded += 1;
                    if responded == expected {
                        return;
                    }
                }
            }
        }
    })
    .await;
    let _ = child.kill().await;
    server.abort();
    for reader in readers.into_iter().flatten() {
        out.output.extend(reader.await.unwrap_or_default());
    }
    outcome.map_err(|_| format!("{} of {expected} responses within {limit:?}", out.responses.len()))?;
    Ok(out)
}

/// Every line `from` gives until it ends (the process exits).
async fn lines(from: impl tokio::io::AsyncRead + Unpin) -> Vec<String> {
    use tokio::io::AsyncBufReadExt;
    let mut out = Vec::new();
    let mut reader = tokio::io::BufReader::new(from).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        out.push(line);
    }
    out
}

/// A function's whole environment as Lambda gives it: its template.yaml variables resolved
/// against `stack`, and what Lambda sets ([`lambda_env`]).
pub fn process_env(
    t: &crate::template::Template,
    stack: &crate::provision::Stack,
    f: &crate::template::Function,
    endpoint: &str,
) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = t
        .globals_env
        .iter()
        .chain(f.env.iter())
        .filter_map(|(k, v)| stack.resolved.resolve(v).ok().map(|v| (k.clone(), v)))
        .collect();
    env.extend(lambda_env(&f.handler, endpoint));
    env
}

/// What Lambda sets for a function, with `endpoint` as AWS.
pub fn lambda_env(handler: &str, endpoint: &str) -> HashMap<String, String> {
    [
        (common::runtime::HANDLER_VAR, handler),
        ("PATH", "/usr/bin:/bin"),
        ("AWS_LAMBDA_FUNCTION_NAME", handler),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_ENDPOINT_URL", endpoint),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A sample event of events/lambda/.
pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(crate::default_template().with_file_name("events").join("lambda").join(name)).expect("sample event")
}

/// An API Gateway HTTP API (payload 2.0) event for `method path` (parameters filled in).
pub fn http_event(method: &str, route_path: &str, token: Option<&str>, body: Option<&str>) -> Vec<u8> {
    let mut params = serde_json::Map::new();
    let raw: Vec<String> = route_path
        .trim_start_matches('/')
        .split('/')
        .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let v = if name == "slug" {
                    "engineering".to_string()
                } else {
                    ulid::Ulid::new().to_string()
                };
                params.insert(name.to_string(), serde_json::Value::String(v.clone()));
                v
            }
            None => seg.to_string(),
        })
        .collect();
    let path = format!("/{}", raw.join("/"));
    let mut headers = serde_json::json!({"host": "api.example.com", "content-type": "application/json"});
    if let Some(t) = token {
        headers["authorization"] = serde_json::Value::String(format!("Bearer {t}"));
    }
    // API Gateway names the catch-all route `$default`, without a method.
    let route_key = if route_path == "$default" {
        route_path.to_string()
    } else {
        format!("{method} {route_path}")
    };
    let mut e = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "api.example.com", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": ulid::Ulid::new().to_string(), "routeKey": route_key, "stage": "$default",
            "time": "23/Nov/2026:09:15:02 +0000", "timeEpoch": 1795338902417u64
        },
        "isBase64Encoded": false
    });
    if !params.is_empty() {
        e["pathParameters"] = serde_json::Value::Object(params);
    }
    if let Some(b) = body {
        e["body"] = serde_json::Value::String(b.to_string());
    }
    serde_json::to_vec(&e).expect("JSON")
}

/// The status code of an HTTP function's response (API Gateway v2 response JSON).
pub fn status_of(response: &str) -> Option<u16> {
    serde_json::from_str::<serde_json::Value>(response)
        .ok()?
        .get("statusCode")?
        .as_u64()
        .map(|s| s as u16)
}

/// p-th quantile (0..=1) of sorted samples, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
}
