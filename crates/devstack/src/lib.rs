//! The platform on one machine without AWS: resources from template.yaml created in the
//! AWS stand-in, every HTTP route served by the local gateway, the stream relay and the
//! SQS consumers polled in the background. `make dev` runs it; tests start it in-process
//! with their own resource prefix.

pub mod bench;
pub mod contract;
mod declared;
pub mod gateway;
pub mod generate;
pub mod intrinsics;
pub mod live;
pub mod openapi;
pub mod pollers;
pub mod protect;
pub mod provision;
pub mod redrive;
pub mod secrets;
pub mod seed;
pub mod template;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use common::app::{App, Settings};
use common::runtime::{Function, Kind};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::gateway::{Gateway, Route};
use crate::provision::Stack;
use crate::template::{FunctionEvent, Template};

/// A crate binary (template.yaml's `Binary`) with its function table (`Handler`) and its
/// HTTP rows' routes ([`generate`] writes their template.yaml functions from them).
pub struct Binary {
    pub name: &'static str,
    pub functions: &'static [Function],
    pub routes: fn() -> Vec<common::runtime::Route>,
}

/// Every crate binary.
pub const BINARIES: &[Binary] = &[
    Binary {
        name: "platform",
        functions: platform::FUNCTIONS,
        routes: platform::routes,
    },
    Binary {
        name: "auth",
        functions: auth::FUNCTIONS,
        routes: auth::routes,
    },
    Binary {
        name: "profiles",
        functions: profiles::FUNCTIONS,
        routes: profiles::routes,
    },
    Binary {
        name: "admin",
        functions: admin::FUNCTIONS,
        routes: admin::routes,
    },
    Binary {
        name: "companies",
        functions: companies::FUNCTIONS,
        routes: companies::routes,
    },
    Binary {
        name: "categories",
        functions: categories::FUNCTIONS,
        routes: categories::routes,
    },
    Binary {
        name: "jobs",
        functions: jobs::FUNCTIONS,
        routes: jobs::routes,
    },
    Binary {
        name: "files",
        functions: files::FUNCTIONS,
        routes: files::routes,
    },
    Binary {
        name: "privacy",
        functions: privacy::FUNCTIONS,
        routes: privacy::routes,
    },
    Binary {
        name: "applications",
        functions: applications::FUNCTIONS,
        routes: applications::routes,
    },
    Binary {
        name: "analytics",
        functions: analytics::FUNCTIONS,
        routes: analytics::routes,
    },
    Binary {
        name: "notifications",
        functions: notifications::FUNCTIONS,
        routes: notifications::routes,
    },
    Binary {
        name: "search",
        functions: search::FUNCTIONS,
        routes: search::routes,
    },
];

/// Concurrent batches per SQS consumer locally.
pub const CONSUMER_CONCURRENCY: usize = 3;

/// Every function of every binary by handler name.
pub fn functions() -> HashMap<&'static str, Kind> {
    BINARIES.iter().flat_map(|b| b.functions.iter()).map(|f| (f.name, f.kind)).collect()
}

/// The standard AWS configuration chain (aws-config: env, profiles, `AWS_ENDPOINT_URL`) for
/// the tools and tests; Lambdas build theirs from the environment (`common::app`).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// The `App` of a command-line tool (create-admin, seed) and its table: TABLE_NAME, or
/// `<LOCAL_PREFIX>-Table` of the local stack (prefix `dev`). Tools issue no tokens and
/// seal nothing: they hold no keys.
pub async fn tool_app() -> (App, String) {
    let table =
        std::env::var("TABLE_NAME").unwrap_or_else(|_| format!("{}-Table", std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "dev".into())));
    let settings = Settings {
        table: table.clone(),
        events_topic_arn: String::new(),
        mail_from: String::new(),
        issuer: "tool".into(),
        audience: "tool".into(),
        signing_keys_secret: None,
        field_keys_secret: None,
        uploads_bucket: None,
        search: std::env::var("SEARCH_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .map(|endpoint| common::app::SearchSettings {
                endpoint,
                service: "aoss".into(),
                index_prefix: std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "dev".into()),
            }),
        public_url: String::new(),
        push_apns_app: None,
        push_fcm_app: None,
        live_endpoint: None,
        analytics_queue_url: None,
        rate_limits: None,
        quotas: Default::default(),
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
    /// Rate-limit budgets not given in `params` are the template's defaults times this
    /// ([`LOCAL_RATE_LIMIT_FACTOR`] for `make dev` and tests: one address plays many users).
    pub rate_limit_factor: u64,
}

/// How much more the local stack allows than a deployment, unless told otherwise.
pub const LOCAL_RATE_LIMIT_FACTOR: u64 = 1000;

/// The rate-limit parameters of `t` (`RateLimit*` but the window) with their defaults
/// multiplied by `factor`, for those `given` does not set.
pub fn scaled_rate_limits(t: &Template, factor: u64, given: &HashMap<String, String>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (name, default) in &t.parameters {
        if !name.starts_with("RateLimit") || name == "RateLimitWindowSeconds" || given.contains_key(name) {
            continue;
        }
        let default = default.clone().unwrap_or_default();
        let value = if name == "RateLimitRoutes" {
            let routes = common::ratelimit::parse_routes(&default)?;
            let mut routes: Vec<_> = routes
                .into_iter()
                .map(|(r, l)| format!("{r}={}", l.saturating_mul(factor)))
                .collect();
            routes.sort();
            routes.join(";")
        } else {
            let n: u64 = default
                .parse()
                .map_err(|_| format!("{name}: default {default:?} is not a number"))?;
            n.saturating_mul(factor).to_string()
        };
        out.push((name.clone(), value));
    }
    Ok(out)
}

pub struct Running {
    pub addr: SocketAddr,
    /// The WebSocket management API's loopback listener (`LIVE_ENDPOINT`).
    pub management_addr: SocketAddr,
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

/// Checks the template against the function tables both ways: every function names a
/// crate binary and a row of its table of the right kind, and every row is deployed.
pub fn check_functions(t: &Template) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut used = std::collections::HashSet::new();
    for f in t.functions()? {
        let Some(table) = BINARIES.iter().find(|b| b.name == f.binary).map(|b| b.functions) else {
            problems.push(format!("{}: no crate binary {}", f.logical_id, f.binary));
            continue;
        };
        let Some(row) = table.iter().find(|r| r.name == f.handler) else {
            problems.push(format!("{}: binary {} has no function {}", f.logical_id, f.binary, f.handler));
            continue;
        };
        if !used.insert(f.handler.clone()) {
            problems.push(format!("{}: handler {} is deployed twice", f.logical_id, f.handler));
        }
        let fits = f.events.iter().all(|e| {
            matches!(
                (e, row.kind),
                (FunctionEvent::Http { .. }, Kind::Http(_))
                    | (FunctionEvent::Sqs { .. }, Kind::Consumer(..) | Kind::Batch(_))
                    | (FunctionEvent::Stream { .. }, Kind::StreamRelay)
                    | (FunctionEvent::Schedule { .. }, Kind::Scheduled(_))
                    | (FunctionEvent::S3 { .. }, Kind::S3(_))
            )
        });
        if !fits {
            problems.push(format!("{}: its events do not fit the kind of {}", f.logical_id, f.handler));
        }
    }
    for (key, handler) in t.websocket_routes()? {
        let kind = BINARIES
            .iter()
            .flat_map(|b| b.functions.iter())
            .find(|f| f.name == handler)
            .map(|f| f.kind);
        if !matches!(kind, Some(Kind::WebSocket(_))) {
            problems.push(format!("WebSocket route {key}: {handler} is not a WebSocket function"));
        }
    }
    for Binary {
        name: binary,
        functions: table,
        ..
    } in BINARIES
    {
        for row in table.iter().filter(|r| !used.contains(r.name)) {
            problems.push(format!("{binary}: function {} is in no template function", row.name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("template.yaml and the function tables disagree: {}", problems.join("; ")))
    }
}

pub async fn start(opts: Options) -> Result<Running, String> {
    let t = Template::load(&opts.template)?;
    check_functions(&t)?;
    let sdk = load_sdk_config().await;
    let mut params = opts.params.clone();
    params.extend(scaled_rate_limits(&t, opts.rate_limit_factor, &opts.params)?);
    let stack = provision::provision(&t, &sdk, &opts.prefix, &params).await?;
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|e| format!("binding {}: {e}", opts.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The WebSocket API's management API: its own port on loopback, never the public one.
    let management = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|e| format!("binding the management listener: {e}"))?;
    let management_addr = management.local_addr().map_err(|e| e.to_string())?;
    let mut env = stack.function_env(&t)?;
    // Links in emails lead to this gateway.
    env.insert("PUBLIC_API_URL".into(), format!("http://{addr}"));
    env.insert("LIVE_ENDPOINT".into(), format!("http://{management_addr}{}", live::PATH));
    let settings = Settings::from_lookup(|k| env.get(k).cloned())?;
    let app: &'static App = Box::leak(Box::new(App::new(settings, sdk.clone())));
    // The key rings from the stand-in's Secrets Manager, by the functions' own code; then
    // refreshed as often as a warm Lambda container refreshes them.
    app.refresh_secrets().await?;

    let kinds = functions();
    let mut routes = Vec::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let wiring = Wiring {
        opts: &opts,
        kinds: &kinds,
        stack: &stack,
        sdk: &sdk,
        app,
        stop: stop_rx.clone(),
    };
    for f in t.functions()? {
        for e in &f.events {
            wiring.wire(&f, e, &mut routes, &mut tasks)?;
        }
    }
    let route_list = routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.binary.clone()))
        .collect();
    let mut ws_routes = HashMap::new();
    for (key, handler) in t.websocket_routes()? {
        let Kind::WebSocket(h) = kinds[handler.as_str()] else {
            return Err(format!("{handler} is not a WebSocket function"));
        };
        ws_routes.insert(key, (h, declared::of(&handler)));
    }
    let live_api = (!ws_routes.is_empty()).then(|| live::LiveApi::new(app, ws_routes, stop_rx.clone()));
    let mut cors = t.cors.clone();
    if let Some(c) = cors.as_mut() {
        if let Some(v) = &c.allow_origins_ref {
            let list = stack.resolved.resolve(v)?;
            c.allow_origins = list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    if let Some(live) = live_api.clone() {
        tasks.push(tokio::spawn(live::serve_management(live, management, stop_rx.clone())));
    }
    let gw = Arc::new(Gateway::new(app, routes, cors, live_api));
    tasks.push(tokio::spawn(refresh_secrets(app, stop_rx.clone())));
    tasks.push(tokio::spawn(accept(listener, gw, stop_rx.clone())));
    Ok(Running {
        addr,
        management_addr,
        app,
        stack,
        routes: route_list,
        stop: stop_tx,
        tasks,
    })
}

/// What a template function's events need to run locally.
struct Wiring<'a> {
    opts: &'a Options,
    kinds: &'a HashMap<&'static str, Kind>,
    stack: &'a Stack,
    sdk: &'a aws_config::SdkConfig,
    app: &'static App,
    stop: watch::Receiver<bool>,
}

impl Wiring<'_> {
    /// Event `e` of function `f`: a gateway route, or a poller (stream, queue, schedule, S3).
    fn wire(
        &self,
        f: &template::Function,
        e: &FunctionEvent,
        routes: &mut Vec<Route>,
        tasks: &mut Vec<JoinHandle<()>>,
    ) -> Result<(), String> {
        match e {
            FunctionEvent::Http { method, path } => {
                let Kind::Http(handler) = self.kinds[f.handler.as_str()] else {
                    return Err(format!("{} is not an HTTP function", f.handler));
                };
                routes.push(Route::new(method, path, &f.handler, handler).declaring(declared::of(&f.handler)));
            }
            FunctionEvent::Stream { table, batch_size } if self.opts.run_relay => {
                let arn = self
                    .stack
                    .stream_arns
                    .get(table)
                    .cloned()
                    .ok_or(format!("{}: table {table} has no stream", f.logical_id))?;
                let Kind::StreamRelay = self.kinds[f.handler.as_str()] else {
                    return Err(format!("{} is not a stream function", f.handler));
                };
                tasks.push(declared::spawn(
                    &f.handler,
                    pollers::stream_poller(self.sdk.clone(), arn, self.app, *batch_size, self.stop.clone()),
                ));
            }
            FunctionEvent::Sqs { queue, batch_size } if self.opts.run_consumers => {
                let url = self
                    .stack
                    .queue_urls
                    .get(queue)
                    .cloned()
                    .ok_or(format!("{}: queue {queue} is not in the template", f.logical_id))?;
                let arn = self
                    .stack
                    .resolved
                    .attrs
                    .get(&(queue.clone(), "Arn".into()))
                    .cloned()
                    .unwrap_or_default();
                let target = match self.kinds[f.handler.as_str()] {
                    Kind::Consumer(name, handler) => pollers::SqsTarget::Events(name, handler),
                    Kind::Batch(handler) => pollers::SqsTarget::Batch(handler),
                    _ => return Err(format!("{} is not a consumer", f.handler)),
                };
                // Lambda runs several batches of a queue at once (five pollers to start
                // with); so do we, which also keeps event order unpromised locally.
                for _ in 0..CONSUMER_CONCURRENCY {
                    let source = pollers::QueueSource {
                        url: url.clone(),
                        arn: arn.clone(),
                        batch_size: *batch_size,
                    };
                    tasks.push(declared::spawn(
                        &f.handler,
                        pollers::sqs_poller(self.sdk.clone(), source, target, self.app, self.stop.clone()),
                    ));
                }
            }
            FunctionEvent::Schedule { every, enabled: true } => {
                let Kind::Scheduled(handler) = self.kinds[f.handler.as_str()] else {
                    return Err(format!("{} is not a scheduled function", f.handler));
                };
                let period = self.opts.schedule_every.unwrap_or(*every);
                tasks.push(declared::spawn(
                    &f.handler,
                    pollers::scheduler(f.handler.clone(), period, handler, self.app, self.stop.clone()),
                ));
            }
            FunctionEvent::S3 { .. } => {
                let Kind::S3(handler) = self.kinds[f.handler.as_str()] else {
                    return Err(format!("{} is not an S3-triggered function", f.handler));
                };
                let (url, _) = self
                    .stack
                    .s3_event_queues
                    .get(&f.logical_id)
                    .cloned()
                    .ok_or(format!("{}: no S3 notification queue", f.logical_id))?;
                tasks.push(declared::spawn(
                    &f.handler,
                    pollers::s3_poller(self.sdk.clone(), url, f.handler.clone(), handler, self.app, self.stop.clone()),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Refreshes the key rings as often as a warm Lambda container does.
async fn refresh_secrets(app: &'static App, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(common::secrets::REFRESH_SECS as u64)) => {
                if let Err(e) = app.refresh_secrets().await {
                    tracing::error!(error = %e, "the key rings cannot be read");
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// Serves the gateway on `listener` until stopped.
async fn accept(listener: tokio::net::TcpListener, gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, peer)) = accepted else { continue };
                let gw = gw.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| gw.clone().serve(req, peer));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), svc).with_upgrades().await;
                });
            }
            _ = stop.changed() => break,
        }
    }
}
