//! Platform plumbing: liveness, the catch-all 404 in the API's error format, and the
//! outbox stream relay (its logic is shared in `common::relay`).

use common::http::{ok, Request, Response};
use common::{ApiError, ApiResult, App};
use http::{header, HeaderValue};
use lambda_http::Body;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`
    pub status: String,
}

/// GET /health: liveness of the function itself (no dependency calls).
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, description = "the API answers", body = Health)))]
pub async fn health(_app: &'static App, _req: Request) -> ApiResult<Response> {
    ok(&Health { status: "ok".into() })
}

/// The OpenAPI document, generated from the handlers by `make openapi` (a test keeps the
/// committed file in step with the code).
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

fn static_response(content_type: &'static str, body: &'static str) -> ApiResult<Response> {
    let mut resp = http::Response::new(Body::Text(body.to_string()));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// GET /openapi.json
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "this document (OpenAPI 3.1)", content_type = "application/json")))]
pub async fn openapi_json(_app: &'static App, _req: Request) -> ApiResult<Response> {
    static_response("application/json", OPENAPI_JSON)
}

/// GET /docs
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "human-readable API docs rendered from /openapi.json", content_type = "text/html")))]
pub async fn docs(_app: &'static App, _req: Request) -> ApiResult<Response> {
    static_response("text/html; charset=utf-8", include_str!("../assets/docs.html"))
}

common::functions! {
    openapi(tags((name = "meta", description = "Liveness and API documentation")));
    http {
        "platform-health" => health,
        "platform-openapi" => openapi_json,
        "platform-docs" => docs,
    }
    other {
        "platform-not-found" => common::runtime::Kind::Http(common::http_handler!(not_found)),
        "platform-stream-relay" => common::runtime::Kind::StreamRelay,
    }
}

/// `$default` route: any path and method not in the API answers 404 in the error format.
pub async fn not_found(_app: &'static App, req: Request) -> ApiResult<Response> {
    Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.uri().path())))
}
