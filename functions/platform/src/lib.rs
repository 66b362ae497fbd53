//! Platform plumbing: liveness, the catch-all 404 in the API's error format, and the
//! outbox stream relay (its logic is shared in `common::relay`).

use common::http::{ok, Request, Response};
use common::http_handler;
use common::{ApiError, ApiResult, App};

/// GET /health: liveness of the function itself (no dependency calls).
pub async fn health(_app: &'static App, _req: Request) -> ApiResult<Response> {
    ok(&serde_json::json!({"status": "ok"}))
}

/// `$default` route: any path and method not in the API answers 404 in the error format.
pub async fn not_found(_app: &'static App, req: Request) -> ApiResult<Response> {
    Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.uri().path())))
}

/// Every HTTP handler of this crate by its function binary name (template.yaml `Binary`).
pub fn handlers() -> Vec<(&'static str, common::http::HttpHandler)> {
    vec![("platform-health", http_handler!(health)), ("platform-not-found", http_handler!(not_found))]
}
