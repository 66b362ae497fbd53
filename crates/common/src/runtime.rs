//! Lambda entry points. Each domain crate has one binary that serves every function of its
//! table ([`functions!`](crate::functions)); which one a Lambda runs is named by the
//! function's `Handler` in template.yaml (Lambda passes it as `_HANDLER`). Every entry point
//! builds a single-threaded runtime (the fastest cold start), reads settings once (a missing
//! setting fails the init, visibly), and serves invocations with clients created once per
//! container.

use std::future::Future;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

use crate::app::App;
use crate::http::HttpHandler;

pub type Error = lambda_runtime::Error;

/// What kind of function a table row is, with its handler.
#[derive(Clone, Copy)]
pub enum Kind {
    /// An HTTP route (API Gateway HTTP API, payload 2.0).
    Http(HttpHandler),
    /// An SQS consumer of domain events; the name scopes its dedupe records.
    Consumer(&'static str, EventHandler),
    /// An SQS consumer that takes whole batches (it aggregates before it writes) and
    /// reports its partial failures itself.
    Batch(BatchHandler),
    /// Fired by an EventBridge schedule.
    Scheduled(ScheduledHandler),
    /// Triggered by S3 notifications.
    S3(S3Handler),
    /// The outbox relay on the table's stream.
    StreamRelay,
    /// A route of the WebSocket API (`$connect`, `$disconnect`), wired in template.yaml by an
    /// `AWS::ApiGatewayV2::Route` and its integration.
    WebSocket(WsHandler),
}

/// One row of a crate's function table: the name template.yaml gives as `Handler`.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub kind: Kind,
    /// What the row declares it touches and, for an `other` row, what starts it.
    pub access: crate::access::Access,
}

/// An HTTP row of a crate's table with what its handler's `#[utoipa::path]` says (its
/// method and path) and what it touches (its row's [`Access`](crate::access::Access)):
/// everything `make template` writes into its template.yaml function.
#[derive(Clone, Debug)]
pub struct Route {
    pub name: &'static str,
    /// Upper case (`GET`).
    pub method: String,
    pub path: String,
    pub access: crate::access::Access,
    /// It takes an `Idempotency-Key` (its `#[utoipa::path]` declares the header).
    pub idempotent: bool,
}

impl Route {
    /// The route of a document with the handler's one operation (see [`functions!`]).
    pub fn of(name: &'static str, doc: utoipa::openapi::OpenApi, access: crate::access::Access) -> Route {
        let mut paths = doc.paths.paths.into_iter();
        let (path, item) = paths.next().unwrap_or_else(|| panic!("{name}: its handler has no #[utoipa::path]"));
        let item = serde_json::to_value(item).unwrap_or_default();
        let methods: Vec<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
            .into_iter()
            .filter(|m| item.get(*m).is_some())
            .map(str::to_uppercase)
            .collect();
        assert!(
            paths.next().is_none() && methods.len() == 1,
            "{name}: its handler documents one operation"
        );
        let method = methods[0].clone();
        let params = item[method.to_lowercase()]["parameters"].as_array().cloned().unwrap_or_default();
        let idempotent = params.iter().any(|p| {
            p["in"] == "header"
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(crate::idempotency::HEADER))
        });
        Route {
            name,
            method,
            path,
            access,
            idempotent,
        }
    }
}

/// A row's declared access: nothing when none is given. The row's expression sees the
/// names of [`crate::access`] and its actions unqualified.
#[doc(hidden)]
#[macro_export]
macro_rules! __access {
    () => {
        $crate::access::NOTHING
    };
    ($a:expr) => {{
        #[allow(unused_imports)]
        use $crate::access::{Db::*, Push::*, Trigger::*, S3::*, *};
        $a
    }};
}

/// The environment variable Lambda sets to the function's `Handler`.
pub const HANDLER_VAR: &str = "_HANDLER";

/// Serves the function of `table` that the Lambda configuration names (`_HANDLER`).
pub fn serve(table: &'static [Function]) -> Result<(), Error> {
    let name = std::env::var(HANDLER_VAR).unwrap_or_default();
    let Some(f) = table.iter().find(|f| f.name == name) else {
        let known: Vec<&str> = table.iter().map(|f| f.name).collect();
        let msg = format!(
            "{HANDLER_VAR}={name:?} names no function of this binary (known: {})",
            known.join(", ")
        );
        eprintln!("{msg}");
        return Err(msg.into());
    };
    crate::metrics::init(f.name);
    match f.kind {
        Kind::Http(h) => run_http(h),
        Kind::Consumer(name, h) => run_consumer(name, h),
        Kind::Batch(h) => run_batch(h),
        Kind::Scheduled(h) => run_scheduled(h),
        Kind::S3(h) => run_s3(h),
        Kind::StreamRelay => run_stream_relay(),
        Kind::WebSocket(h) => run_websocket(h),
    }
}

/// A domain crate's function table and its part of the OpenAPI document, from one list:
///
/// ```ignore
/// common::functions! {
///     openapi(tags((name = "jobs", description = "...")));
///     http {
///         "jobs-create" => create: table(&[Get, Put, Update, ConditionCheck, Delete]).indexes(),
///         "jobs-list" => listing::list: table(&[Query]).indexes(),
///     }
///     other {
///         "jobs-expire" => Scheduled(expiry::handler): table(&[Query, Get, Put, Update, ConditionCheck])
///             .indexes()
///             .on(Schedule("rate(5 minutes)", "Stores open jobs past their deadline as expired")),
///     }
/// }
/// ```
///
/// defines `pub const FUNCTIONS: &[Function]` (served by the crate's binary, run by the
/// local stack), `pub struct Api` (utoipa, with every `http` handler's `#[utoipa::path]`)
/// and `pub fn routes()`: each `http` row's method and path (from its `#[utoipa::path]`)
/// and declared access ([`crate::access`]), from which `make template` writes its
/// template.yaml function. An `other` row names its [`Kind`] (`Consumer(NAME, handler)`,
/// `Scheduled(handler)`, ...) and declares, besides its access, what starts it
/// ([`crate::access::Trigger`]); `make template` writes its function from that. A test checks the table against template.yaml both ways.
#[macro_export]
macro_rules! functions {
    (
        openapi($($doc:tt)*);
        http { $($name:literal => $($seg:ident)::+ $(: $access:expr)?),* $(,)? }
        $(other { $($oname:literal => $okind:ident $(($($oarg:tt)*))? $(: $oaccess:expr)?),* $(,)? })?
    ) => {
        /// Every function of this crate by its template.yaml `Handler`.
        pub const FUNCTIONS: &[$crate::runtime::Function] = &[
            $($crate::runtime::Function {
                name: $name,
                kind: $crate::runtime::Kind::Http($crate::http_handler!($($seg)::+)),
                access: $crate::__access!($($access)?),
            },)*
            $($($crate::runtime::Function {
                name: $oname,
                kind: $crate::runtime::Kind::$okind $(($($oarg)*))?,
                access: $crate::__access!($($oaccess)?),
            },)*)?
        ];

        /// This crate's part of the OpenAPI document: the `http` rows of [`FUNCTIONS`].
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($($seg)::+),*), $($doc)*)]
        pub struct Api;

        /// The `http` rows of [`FUNCTIONS`] with their method, path and declared access.
        pub fn routes() -> Vec<$crate::runtime::Route> {
            vec![$({
                #[derive(utoipa::OpenApi)]
                #[openapi(paths($($seg)::+))]
                struct One;
                $crate::runtime::Route::of($name, <One as utoipa::OpenApi>::openapi(), $crate::__access!($($access)?))
            }),*]
        }
    };
}

fn block_on<F: Future<Output = Result<(), Error>>>(f: F) -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(f)
}

async fn init() -> Result<&'static App, Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let app = App::from_env().map_err(|e| {
        tracing::error!(error = %e, "configuration is incomplete");
        e
    })?;
    // Nothing is fetched here: the key rings this function is given come with its first
    // invocation ([`fresh`]), so init stays a few milliseconds.
    Ok(Box::leak(Box::new(app)))
}

/// Before each invocation: fetches the key rings the function is given on the first one and
/// again once they are older than [`crate::secrets::REFRESH_SECS`] (a rotation reaches warm
/// containers); otherwise nothing. Without them a handler answers 500 (logged) and a
/// consumer's batch fails, to be retried.
async fn fresh(app: &App, request_id: String) -> Flush {
    if let Err(e) = app.refresh_secrets().await {
        tracing::error!(error = %e, "the key rings cannot be read");
    }
    Flush(request_id)
}

/// Flushes the invocation's metrics when dropped, at the end of the invocation
/// ([`crate::metrics`]).
struct Flush(String);

impl Drop for Flush {
    fn drop(&mut self) {
        crate::metrics::flush(&self.0);
    }
}

/// Serves one HTTP route.
fn run_http(handler: HttpHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_http::run(lambda_http::service_fn(move |req: lambda_http::Request| async move {
            use lambda_http::RequestExt;
            let _flush = fresh(app, req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default()).await;
            Ok::<_, std::convert::Infallible>(crate::http::respond(app, req, handler).await)
        }))
        .await
    })
}

/// Serves the DynamoDB stream relay.
fn run_stream_relay() -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |ev: LambdaEvent<StreamEvent>| async move {
            let _flush = Flush(ev.context.request_id.clone());
            Ok::<_, std::convert::Infallible>(crate::relay::relay(app, ev.payload).await)
        }))
        .await
    })
}

/// An event handler of a consumer: `(app, event) -> Ok(())` when handled.
pub type EventHandler = fn(&'static App, crate::consumer::Delivery) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Serves an SQS consumer named `consumer` (the name scopes its dedupe records).
fn run_consumer(consumer: &'static str, handler: EventHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
            let _flush = fresh(app, ev.context.request_id.clone()).await;
            Ok::<SqsBatchResponse, std::convert::Infallible>(crate::consumer::consume(app, consumer, ev.payload, |e| handler(app, e)).await)
        }))
        .await
    })
}

/// A whole-batch SQS handler: `(app, batch) -> the messages that failed`.
pub type BatchHandler = fn(&'static App, SqsEvent) -> std::pin::Pin<Box<dyn Future<Output = SqsBatchResponse> + Send>>;

/// Serves a whole-batch SQS consumer.
fn run_batch(handler: BatchHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
            let _flush = fresh(app, ev.context.request_id.clone()).await;
            Ok::<SqsBatchResponse, std::convert::Infallible>(handler(app, ev.payload).await)
        }))
        .await
    })
}

/// A scheduled job's handler: `(app) -> Ok(())` when the run succeeded.
pub type ScheduledHandler = fn(&'static App) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Serves a function fired by an EventBridge schedule (the event's content is not used).
fn run_scheduled(handler: ScheduledHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
            let _flush = fresh(app, ev.context.request_id.clone()).await;
            handler(app).await.map_err(|e| {
                tracing::error!(error = %e, "scheduled run failed");
                Error::from(e)
            })
        }))
        .await
    })
}

/// The handler of an S3-triggered function.
pub type S3Handler =
    fn(&'static App, aws_lambda_events::event::s3::S3Event) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Serves a function triggered by S3 notifications (an error makes Lambda retry the event).
fn run_s3(handler: S3Handler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(
            move |ev: LambdaEvent<aws_lambda_events::event::s3::S3Event>| async move {
                let _flush = fresh(app, ev.context.request_id.clone()).await;
                handler(app, ev.payload).await.map_err(|e| {
                    tracing::error!(error = %e, "S3 event failed");
                    Error::from(e)
                })
            },
        ))
        .await
    })
}

/// A WebSocket API route's handler: the API Gateway WebSocket event in, the integration's
/// response out (for `$connect`, a non-2xx status refuses the connection).
pub type WsHandler = fn(
    &'static App,
    aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest,
) -> std::pin::Pin<Box<dyn Future<Output = aws_lambda_events::event::apigw::ApiGatewayProxyResponse> + Send>>;

/// Serves one route of the WebSocket API.
fn run_websocket(handler: WsHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(
            move |ev: LambdaEvent<aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest>| async move {
                let _flush = fresh(app, ev.context.request_id.clone()).await;
                Ok::<_, std::convert::Infallible>(handler(app, ev.payload).await)
            },
        ))
        .await
    })
}
