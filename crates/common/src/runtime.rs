//! Lambda entry points. Each function binary is one call to one of these: it builds a
//! single-threaded runtime (the fastest cold start), reads settings once (a missing setting
//! fails the init, visibly), and serves invocations with clients created once per container.

use std::future::Future;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

use crate::app::App;
use crate::events::Envelope;
use crate::http::HttpHandler;

pub type Error = lambda_runtime::Error;

fn block_on<F: Future<Output = Result<(), Error>>>(f: F) -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(f)
}

async fn init() -> Result<&'static App, Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let app = App::from_env().map_err(|e| {
        tracing::error!(error = %e, "configuration is incomplete");
        e
    })?;
    Ok(Box::leak(Box::new(app)))
}

/// Serves one HTTP route.
pub fn run_http(handler: HttpHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_http::run(lambda_http::service_fn(move |req| async move {
            Ok::<_, std::convert::Infallible>(crate::http::respond(app, req, handler).await)
        }))
        .await
    })
}

/// Serves the DynamoDB stream relay.
pub fn run_stream_relay() -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |ev: LambdaEvent<StreamEvent>| async move {
            Ok::<_, std::convert::Infallible>(crate::relay::relay(app, ev.payload).await)
        }))
        .await
    })
}

/// An event handler of a consumer: `(app, event) -> Ok(())` when handled.
pub type EventHandler = fn(&'static App, Envelope) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Serves an SQS consumer named `consumer` (the name scopes its dedupe records).
pub fn run_consumer(consumer: &'static str, handler: EventHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
            Ok::<SqsBatchResponse, std::convert::Infallible>(crate::consumer::consume(app, consumer, ev.payload, |e| handler(app, e)).await)
        }))
        .await
    })
}

/// A scheduled job's handler: `(app) -> Ok(())` when the run succeeded.
pub type ScheduledHandler = fn(&'static App) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Serves a function fired by an EventBridge schedule (the event's content is not used).
pub fn run_scheduled(handler: ScheduledHandler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
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
pub fn run_s3(handler: S3Handler) -> Result<(), Error> {
    block_on(async move {
        let app = init().await?;
        lambda_runtime::run(service_fn(
            move |ev: LambdaEvent<aws_lambda_events::event::s3::S3Event>| async move {
                handler(app, ev.payload).await.map_err(|e| {
                    tracing::error!(error = %e, "S3 event failed");
                    Error::from(e)
                })
            },
        ))
        .await
    })
}
