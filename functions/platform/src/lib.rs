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
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "this document (OpenAPI 3.1)", content_type = "application/json",
    body = std::collections::HashMap<String, serde_json::Value>)))]
pub async fn openapi_json(_app: &'static App, _req: Request) -> ApiResult<Response> {
    static_response("application/json", OPENAPI_JSON)
}

/// GET /docs
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "human-readable API docs rendered from /openapi.json", content_type = "text/html", body = String)))]
pub async fn docs(_app: &'static App, _req: Request) -> ApiResult<Response> {
    static_response("text/html; charset=utf-8", include_str!("../assets/docs.html"))
}

common::functions! {
    openapi(tags((name = "meta", description = "Liveness and API documentation")));
    http {
        "platform-health" => health: NOTHING.memory(128),
        "platform-openapi" => openapi_json: NOTHING.memory(128),
        "platform-docs" => docs: NOTHING.memory(128),
    }
    other {
        "platform-not-found" => Http(common::http_handler!(not_found)): NOTHING.memory(128).on(Unmatched),
        // Publishes each outbox item to the events topic, then deletes it.
        "platform-stream-relay" => StreamRelay: table(&[Delete]).publishes().on(Outbox),
    }
}

/// The API's routes from the document: path segments and the methods each path takes.
fn documented_routes() -> &'static [(Vec<String>, Vec<String>)] {
    static ROUTES: std::sync::OnceLock<Vec<(Vec<String>, Vec<String>)>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap_or_default();
        doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, ops)| {
                        let segments = path.trim_matches('/').split('/').map(str::to_string).collect();
                        let methods = ops
                            .as_object()
                            .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The methods the API takes on `path` (empty when no route has that shape).
pub fn allowed_methods(path: &str) -> Vec<String> {
    let given: Vec<&str> = path.trim_matches('/').split('/').collect();
    let matching: Vec<_> = documented_routes()
        .iter()
        .filter(|(segments, _)| {
            segments.len() == given.len()
                && segments
                    .iter()
                    .zip(&given)
                    .all(|(s, g)| (s.starts_with('{') && !g.is_empty()) || s == g)
        })
        .collect();
    // The most specific path documents this one (`/jobs/featured`, not `/jobs/{id}`).
    let params = |segments: &Vec<String>| segments.iter().filter(|s| s.starts_with('{')).count();
    let fewest = matching.iter().map(|(s, _)| params(s)).min().unwrap_or(0);
    let mut out: Vec<String> = matching
        .into_iter()
        .filter(|(s, _)| params(s) == fewest)
        .flat_map(|(_, methods)| methods.iter().cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `$default` route: a path the API has, with a method it does not take, is 405 with
/// `Allow`; anything else 404, both in the error format.
pub async fn not_found(_app: &'static App, req: Request) -> ApiResult<Response> {
    let methods = allowed_methods(req.uri().path());
    if methods.is_empty() || methods.iter().any(|m| m == req.method().as_str()) {
        return Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.uri().path())));
    }
    let e = ApiError::new(
        http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take {}", req.uri().path(), req.method()),
    )
    .with_details(serde_json::json!({ "allow": methods }));
    let mut resp = common::http::error_response(&e, &common::http::request_id(&req));
    if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_the_api_know_their_methods() {
        assert_eq!(allowed_methods("/health"), ["GET"]);
        assert_eq!(allowed_methods("/jobs"), ["GET", "POST"]);
        assert!(allowed_methods("/jobs/01HZZZZZZZZZZZZZZZZZZZZZZZ").contains(&"PATCH".to_string()));
        assert!(allowed_methods("/no/such/path").is_empty());
        assert!(allowed_methods("/jobs//applications").is_empty());
        assert_eq!(allowed_methods("/jobs/featured"), ["GET"], "the literal path, not /jobs/{{id}}");
    }
}
