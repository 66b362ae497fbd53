//! Test harness: each test starts its own local stack (resources under a unique prefix in
//! the shared AWS stand-in, its own gateway on a free port) and talks to it over HTTP.
//!
//! The stand-in is started by `make test`, which sets AWS_ENDPOINT_URL.

pub mod actors;
pub mod notices;

pub use actors::{id_of, ids, job_body, open_count, token_of, User};
pub use notices::{notification_kinds, platform_endpoints, pushes_to, security_notice};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::token::TokenKeys;
use devstack::Running;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestStack {
    pub running: Running,
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// The search stand-in's URL (`make test` starts it and sets LOCAL_SEARCH_URL).
pub fn search_url() -> String {
    std::env::var(devstack::provision::SEARCH_URL_VAR)
        .expect("LOCAL_SEARCH_URL is not set: run the tests with `make test`, which starts the search stand-in")
}

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is not set: run the tests with `make test`, which starts the AWS stand-in")
}

fn ensure_env() {
    search::engine::install_tls_provider();
    endpoint();
    search_url();
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ] {
        if std::env::var(k).is_err() {
            std::env::set_var(k, v);
        }
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new().to_string().to_lowercase())
}

impl TestStack {
    /// Gateway, relay and consumers.
    pub async fn start() -> Self {
        Self::start_with(true, true).await
    }

    pub async fn start_with(run_relay: bool, run_consumers: bool) -> Self {
        Self::start_from(&devstack::default_template(), run_relay, run_consumers).await
    }

    /// From another template file (a variant of the real one).
    pub async fn start_from(template: &std::path::Path, run_relay: bool, run_consumers: bool) -> Self {
        Self::launch(template, run_relay, run_consumers, None).await
    }

    /// With the template's schedules fired every `every` (no relay: published outbox items
    /// are deleted by the relay, and these tests read them).
    pub async fn start_scheduled(every: std::time::Duration) -> Self {
        Self::launch(&devstack::default_template(), false, false, Some(every)).await
    }

    /// Gateway, relay and consumers, with template parameters beyond the harness's own.
    pub async fn start_with_params(extra: &[(&str, &str)]) -> Self {
        Self::launch_with(&devstack::default_template(), true, true, None, extra).await
    }

    async fn launch(template: &std::path::Path, run_relay: bool, run_consumers: bool, schedule_every: Option<std::time::Duration>) -> Self {
        Self::launch_with(template, run_relay, run_consumers, schedule_every, &[]).await
    }

    async fn launch_with(
        template: &std::path::Path,
        run_relay: bool,
        run_consumers: bool,
        schedule_every: Option<std::time::Duration>,
        extra: &[(&str, &str)],
    ) -> Self {
        ensure_env();
        // Handler logs (internal errors included) show with a failing test's output.
        static LOGS: std::sync::Once = std::sync::Once::new();
        LOGS.call_once(lambda_runtime::tracing::init_default_subscriber);
        let prefix = unique("t");
        // SES identities are account-wide in the stand-in: each stack gets its own sender.
        let mail_from = format!("no-reply-{prefix}@jobs.example.com");
        let running = devstack::start(devstack::Options {
            template: template.to_path_buf(),
            prefix,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            params: [("MailFrom".to_string(), mail_from)]
                .into_iter()
                .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
                .collect::<HashMap<_, _>>(),
            run_relay,
            run_consumers,
            schedule_every,
            rate_limit_factor: devstack::LOCAL_RATE_LIMIT_FACTOR,
        })
        .await
        .expect("local stack starts");
        let base = running.base_url();
        TestStack {
            running,
            http: reqwest::Client::new(),
            base,
        }
    }

    /// The signing keys the stack's functions hold (read from its Secrets Manager secret).
    pub fn keys(&self) -> std::sync::Arc<TokenKeys> {
        self.running.app.tokens().expect("the stack holds its signing keys")
    }

    /// A key ring as stored in the stack's Secrets Manager (`signing` or `field`).
    pub async fn ring(&self, which: &str) -> common::secrets::Ring {
        let s = &self.running.app.settings;
        let id = if which == "signing" {
            &s.signing_keys_secret
        } else {
            &s.field_keys_secret
        };
        common::secrets::fetch(
            self.running.app.secrets_manager(),
            id.as_deref().expect("the stack names its secret"),
        )
        .await
        .expect("the ring reads")
    }

    pub fn sdk(&self) -> &aws_config::SdkConfig {
        self.running.app.sdk_config()
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Value>, token: Option<&str>) -> Reply {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        Self::reply(req.send().await.expect("gateway answers")).await
    }

    pub async fn send_raw(&self, method: &str, path: &str, body: Vec<u8>, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::reply(req.send().await.expect("gateway answers")).await
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, body, headers }
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        self.send("POST", path, Some(body), token).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, None, token).await
    }

    /// Registers a new account; returns (email, register reply body).
    pub async fn register(&self, role: &str) -> (String, Value) {
        let email = format!("{}@example.com", unique("user"));
        let r = self
            .post(
                "/auth/register",
                json!({"email": email, "password": PASSWORD, "role": role, "full_name": "Test Person"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        (email, r.body)
    }

    /// An admin (created by the same code as the create-admin command); returns its access token.
    pub async fn admin_token(&self) -> String {
        let email = format!("{}@example.com", unique("admin"));
        auth::admin::create_admin(self.running.app, &email, PASSWORD, "Admin")
            .await
            .expect("admin created");
        let r = self.login(&email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["access_token"].as_str().unwrap().to_string()
    }

    /// Access tokens of a new seeker, employer and admin.
    pub async fn tokens_of_every_role(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for role in ["seeker", "employer"] {
            let (_, body) = self.register(role).await;
            if role == "employer" {
                self.mark_verified(body["user"]["id"].as_str().unwrap()).await;
            }
            out.push((role, body["access_token"].as_str().unwrap().to_string()));
        }
        out.push(("admin", self.admin_token().await));
        out
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/auth/login", json!({"email": email, "password": password}), None).await
    }

    /// POST /auth/password/reset.
    pub async fn reset_password(&self, email: &str, code: &str, new_password: &str) -> Reply {
        self.post(
            "/auth/password/reset",
            json!({"email": email, "code": code, "new_password": new_password}),
            None,
        )
        .await
    }

    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }

    /// GETs `path` until `until` holds for the reply (the index catches up with writes
    /// through events); panics with the last reply after `within`.
    pub async fn get_until(&self, path: &str, token: Option<&str>, within: Duration, until: impl Fn(&Reply) -> bool) -> Reply {
        let start = Instant::now();
        loop {
            let r = self.get(path, token).await;
            if until(&r) {
                return r;
            }
            assert!(start.elapsed() < within, "GET {path}: not as expected within {within:?}: {r:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every document of one of this stack's indexes (`jobs`, `companies`, `candidates`,
    /// `saved-searches`), read straight from the engine.
    pub async fn index_docs(&self, suffix: &str) -> Vec<Value> {
        let url = format!("{}/{}-{suffix}/_search", search_url(), self.running.stack.prefix);
        let r: Value = self
            .http
            .post(url)
            .json(&json!({"size": 1000, "query": {"match_all": {}}}))
            .send()
            .await
            .expect("search stand-in answers")
            .json()
            .await
            .expect("JSON");
        r["hits"]["hits"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until document `id` is in (`present`) or gone from one of this stack's indexes;
    /// false if it is not so within `within`.
    pub async fn wait_indexed(&self, suffix: &str, id: &str, present: bool, within: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.index_docs(suffix).await.iter().any(|d| d["_id"] == id) == present {
                return true;
            }
            if start.elapsed() > within {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The ids of a search reply's items.
pub fn hit_ids(r: &Reply) -> Vec<String> {
    r.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().or(i["user_id"].as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Uploads a small one-page PDF ([`files::samples::pdf`]) as the caller's resume through the presigned URL and waits until
/// the S3-triggered check has attached it.
pub async fn attach_resume(s: &TestStack, token: &str) {
    let pdf = files::samples::pdf();
    let r = s
        .post(
            "/me/resume",
            json!({"content_type": "application/pdf", "size_bytes": pdf.len()}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let put = s
        .http
        .put(r.body["upload_url"].as_str().unwrap())
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    for _ in 0..100 {
        if s.get("/me/profile", Some(token)).await.body["resume"]["last_upload"]["state"] == "ready" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the resume was never attached");
}

/// The instances of one model of the AWS stand-in (`/moto-api/data.json?service=ses&model=Message`:
/// sent emails; `sns`, `PlatformEndpoint`: pushes), as its data dump lists them. A dump taken
/// while another test writes can fail (seen under the full suite with S3 uploads and pushes
/// running), so it is read again.
pub async fn stand_in_models(service: &str, model: &str) -> Vec<Value> {
    let url = format!("{}/moto-api/data.json?service={service}&model={model}", endpoint());
    for attempt in 0..20 {
        if let Ok(resp) = reqwest::get(&url).await {
            if let Ok(v) = resp.json::<Value>().await {
                return v[service][model].as_array().cloned().unwrap_or_default();
            }
        }
        assert!(attempt < 19, "the stand-in's data.json never answered with JSON");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

/// The text a reader sees in an HTML body, links' targets included (` <url> ` after the
/// opening tag), entities decoded.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + end + 1];
        if let Some(href) = tag.split("href=\"").nth(1).and_then(|h| h.split('"').next()) {
            out.push(' ');
            out.push_str(href);
            out.push(' ');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let decoded = after.find(';').filter(|e| *e <= 8).and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "ldquo" => Some('\u{201c}'),
                "rdquo" => Some('\u{201d}'),
                _ => name
                    .strip_prefix("#x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Emails the stand-in accepted for `to` (SES records every message). The stand-in keeps
/// the HTML body of a message with both; `body` here is its text (`html_text`), `html` the
/// HTML itself.
pub async fn emails_to(to: &str) -> Vec<Value> {
    stand_in_models("ses", "Message")
        .await
        .into_iter()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == to))
        })
        .map(|mut m| {
            if let Some(html) = m["body"]
                .as_str()
                .filter(|b| b.trim_start().starts_with("<!DOCTYPE html>"))
                .map(str::to_string)
            {
                m["body"] = Value::String(html_text(&html));
                m["html"] = Value::String(html);
            }
            m
        })
        .collect()
}

/// Waits until an email to `to` whose subject contains `subject` arrives.
pub async fn wait_for_email(to: &str, subject: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        if let Some(m) = emails_to(to)
            .await
            .into_iter()
            .find(|m| m["subject"].as_str().is_some_and(|s| s.contains(subject)))
        {
            return m;
        }
        assert!(start.elapsed() < within, "no email '{subject}' to {to} within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The password reset code mailed to `to` (waits for the mail).
pub async fn reset_code(to: &str) -> String {
    let mail = wait_for_email(to, "reset code", Duration::from_secs(15)).await;
    mail["body"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_digit()))
        .expect("an 8-digit code in the mail")
        .to_string()
}

/// Asserts the API.md error body: `{error, message, details, request_id}`.
pub fn assert_error_body(r: &Reply) {
    let b = &r.body;
    assert!(
        b["error"].is_string() && b["message"].is_string() && b["details"].is_object(),
        "not an error body: {r:?}"
    );
    let rid = b["request_id"].as_str().expect("request_id");
    assert_eq!(
        r.headers.get("x-request-id").and_then(|h| h.to_str().ok()),
        Some(rid),
        "request id header matches body"
    );
}

/// Fills `{param}` segments with a syntactically valid id.
pub fn concrete_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') {
                "01JABCDEFGHJKMNPQRSTVWXYZ0".to_string()
            } else {
                s.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
