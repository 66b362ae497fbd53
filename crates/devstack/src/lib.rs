//! The platform on one machine without AWS: resources from template.yaml created in the
//! AWS stand-in, every HTTP route served by the local gateway, the stream relay and the
//! SQS consumers polled in the background. `make dev` runs it; tests start it in-process
//! with their own resource prefix.

pub mod gateway;
pub mod openapi;
pub mod pollers;
pub mod provision;
pub mod seed;
pub mod template;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use common::app::{App, Settings};
use common::http::HttpHandler;
use common::runtime::{EventHandler, S3Handler, ScheduledHandler};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::gateway::{Gateway, Route};
use crate::provision::Stack;
use crate::template::{FunctionEvent, Template};

/// Every HTTP handler by function binary name.
pub fn http_handlers() -> HashMap<&'static str, HttpHandler> {
    auth::handlers()
        .into_iter()
        .chain(platform::handlers())
        .chain(companies::handlers())
        .chain(categories::handlers())
        .chain(profiles::handlers())
        .chain(admin::handlers())
        .chain(jobs::handlers())
        .chain(files::handlers())
        .chain(privacy::handlers())
        .chain(applications::handlers())
        .collect()
}

/// Functions that are not HTTP routes, by binary name.
#[derive(Clone, Copy)]
pub enum EventFunction {
    StreamRelay,
    Consumer(&'static str, EventHandler),
    Scheduled(ScheduledHandler),
    S3(S3Handler),
}

pub fn event_functions() -> HashMap<&'static str, EventFunction> {
    HashMap::from([
        ("platform-stream-relay", EventFunction::StreamRelay),
        (
            "notifications-consumer",
            EventFunction::Consumer(notifications::CONSUMER, notifications::handler),
        ),
        ("jobs-expire", EventFunction::Scheduled(jobs::expiry::handler)),
        ("files-check-upload", EventFunction::S3(files::handler)),
    ])
}

/// The standard AWS configuration chain (aws-config: env, profiles, `AWS_ENDPOINT_URL`) for
/// the tools and tests; Lambdas build theirs from the environment (`common::app`).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// The `App` of a command-line tool (create-admin, seed) and its table: TABLE_NAME, or
/// `<LOCAL_PREFIX>-Table` of the local stack (prefix `dev`). Tools issue no tokens; the
/// random key only satisfies the settings type.
pub async fn tool_app() -> (App, String) {
    let table =
        std::env::var("TABLE_NAME").unwrap_or_else(|_| format!("{}-Table", std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "dev".into())));
    let keys = common::token::TokenKeys::new(&common::crypto::random_bytes::<32>(), "tool", "tool").expect("32 random bytes");
    let settings = Settings {
        table: table.clone(),
        events_topic_arn: String::new(),
        mail_from: String::new(),
        tokens: keys,
        fields: None,
        uploads_bucket: None,
    };
    (App::new(settings, load_sdk_config().await), table)
}

/// The repository's template.yaml.
pub fn default_template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

#[derive(Clone, Debug)]
pub struct Options {
    pub template: PathBuf,
    /// Resource name prefix: `dev` for `make dev`, unique per test.
    pub prefix: String,
    pub addr: SocketAddr,
    /// Template parameter values (JwtSecret has no default on purpose).
    pub params: HashMap<String, String>,
    pub run_relay: bool,
    pub run_consumers: bool,
    /// Fire every schedule at this period instead of its own rate (tests); `None` keeps the
    /// template's rates.
    pub schedule_every: Option<std::time::Duration>,
}

pub struct Running {
    pub addr: SocketAddr,
    pub app: &'static App,
    pub stack: Stack,
    pub routes: Vec<(String, String, String)>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the gateway and the pollers and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Checks that every function of the template has an implementation here.
pub fn check_functions(t: &Template) -> Result<(), String> {
    let http = http_handlers();
    let events = event_functions();
    let mut missing = Vec::new();
    for f in t.functions()? {
        let is_http = f.events.iter().all(|e| matches!(e, FunctionEvent::Http { .. }));
        let known = if is_http {
            http.contains_key(f.binary.as_str())
        } else {
            events.contains_key(f.binary.as_str())
        };
        if !known {
            missing.push(format!("{} (binary {})", f.logical_id, f.binary));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "functions of template.yaml the local stack cannot run: {}",
            missing.join(", ")
        ))
    }
}

pub async fn start(opts: Options) -> Result<Running, String> {
    let t = Template::load(&opts.template)?;
    check_functions(&t)?;
    let sdk = load_sdk_config().await;
    let stack = provision::provision(&t, &sdk, &opts.prefix, &opts.params).await?;
    let env = stack.function_env(&t)?;
    let settings = Settings::from_lookup(|k| env.get(k).cloned())?;
    let app: &'static App = Box::leak(Box::new(App::new(settings, sdk.clone())));

    let http = http_handlers();
    let events = event_functions();
    let mut routes = Vec::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for f in t.functions()? {
        for e in &f.events {
            match e {
                FunctionEvent::Http { method, path } => {
                    routes.push(Route::new(method, path, &f.binary, http[f.binary.as_str()]));
                }
                FunctionEvent::Stream { table, batch_size } if opts.run_relay => {
                    let arn = stack
                        .stream_arns
                        .get(table)
                        .cloned()
                        .ok_or(format!("{}: table {table} has no stream", f.logical_id))?;
                    let EventFunction::StreamRelay = events[f.binary.as_str()] else {
                        return Err(format!("{} is not a stream function", f.binary));
                    };
                    tasks.push(tokio::spawn(pollers::stream_poller(
                        sdk.clone(),
                        arn,
                        app,
                        *batch_size,
                        stop_rx.clone(),
                    )));
                }
                FunctionEvent::Sqs { queue, batch_size } if opts.run_consumers => {
                    let url = stack
                        .queue_urls
                        .get(queue)
                        .cloned()
                        .ok_or(format!("{}: queue {queue} is not in the template", f.logical_id))?;
                    let arn = stack
                        .resolved
                        .attrs
                        .get(&(queue.clone(), "Arn".into()))
                        .cloned()
                        .unwrap_or_default();
                    let EventFunction::Consumer(name, handler) = events[f.binary.as_str()] else {
                        return Err(format!("{} is not a consumer", f.binary));
                    };
                    let source = pollers::QueueSource {
                        url,
                        arn,
                        batch_size: *batch_size,
                    };
                    tasks.push(tokio::spawn(pollers::sqs_poller(
                        sdk.clone(),
                        source,
                        name,
                        handler,
                        app,
                        stop_rx.clone(),
                    )));
                }
                FunctionEvent::Schedule { every, enabled: true } => {
                    let EventFunction::Scheduled(handler) = events[f.binary.as_str()] else {
                        return Err(format!("{} is not a scheduled function", f.binary));
                    };
                    let period = opts.schedule_every.unwrap_or(*every);
                    tasks.push(tokio::spawn(pollers::scheduler(
                        f.binary.clone(),
                        period,
                        handler,
                        app,
                        stop_rx.clone(),
                    )));
                }
                FunctionEvent::S3 { .. } => {
                    let EventFunction::S3(handler) = events[f.binary.as_str()] else {
                        return Err(format!("{} is not an S3-triggered function", f.binary));
                    };
                    let (url, _) = stack
                        .s3_event_queues
                        .get(&f.logical_id)
                        .cloned()
                        .ok_or(format!("{}: no S3 notification queue", f.logical_id))?;
                    tasks.push(tokio::spawn(pollers::s3_poller(
                        sdk.clone(),
                        url,
                        f.binary.clone(),
                        handler,
                        app,
                        stop_rx.clone(),
                    )));
                }
                _ => {}
            }
        }
    }
    let route_list = routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.binary.clone()))
        .collect();
    let gw = Arc::new(Gateway::new(app, routes, t.cors.clone()));
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|e| format!("binding {}: {e}", opts.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut stop = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((socket, peer)) = accepted else { continue };
                    let gw = gw.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| gw.clone().serve(req, peer));
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), svc).await;
                    });
                }
                _ = stop.changed() => break,
            }
        }
    }));
    Ok(Running {
        addr,
        app,
        stack,
        routes: route_list,
        stop: stop_tx,
        tasks,
    })
}
