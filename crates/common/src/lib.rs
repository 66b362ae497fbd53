//! Shared mechanisms of every function of the job platform.
//!
//! - [`error`]: the one error type and its HTTP mapping.
//! - [`http`]: request parsing, authentication, responses, the handler type.
//! - [`app`]: settings and lazily created AWS clients, once per container.
//! - [`token`]: access/refresh JWTs and the shared verifier.
//! - [`db`]: single-table helpers; [`cursor`]: tamper-proof pagination.
//! - [`events`]: envelope and transactional outbox; [`relay`]: stream -> SNS;
//!   [`consumer`]: SQS consumer harness with dedupe and partial batch failures.
//! - [`tx`]: named transactions (every TransactWriteItems).
//! - [`idempotency`]: the `Idempotency-Key` mechanism.
//! - [`runtime`]: Lambda entry points used by the function binaries.
//! - [`ratelimit`]: per-caller and per-route budgets of the HTTP API.
//! - [`session`]: the session gate every access token passes (revocation, suspension).

pub mod access;
pub mod analytics;
pub mod api_doc;
pub mod app;
pub mod audit;
pub mod consumer;
pub mod crypto;
pub mod cursor;
pub mod db;
pub mod error;
pub mod events;
pub mod fields;
pub mod http;
pub mod idempotency;
pub mod mail;
pub mod metrics;
pub mod quota;
pub mod ratelimit;
pub mod relay;
pub mod runtime;
pub mod secrets;
pub mod session;
pub mod time;
pub mod token;
pub mod tx;
pub mod unsubscribe;
pub mod values;
pub mod vocab;

pub use app::App;
pub use error::{ApiError, ApiResult};
