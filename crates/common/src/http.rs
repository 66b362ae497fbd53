//! HTTP plumbing shared by every route: body parsing with clear 4xx errors, authentication,
//! path and query access, JSON responses, and the one place errors become responses.

use std::future::Future;
use std::pin::Pin;

use http::{header, HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::token::{Principal, Role};

pub type Request = lambda_http::Request;
pub type Response = http::Response<Body>;
pub type HandlerFuture = Pin<Box<dyn Future<Output = ApiResult<Response>> + Send>>;
/// A route handler as the runtime and the local gateway call it.
pub type HttpHandler = fn(&'static App, Request) -> HandlerFuture;

/// Turns `async fn(&'static App, Request) -> ApiResult<Response>` into an [`HttpHandler`].
#[macro_export]
macro_rules! http_handler {
    ($f:path) => {{
        fn __boxed(app: &'static $crate::app::App, req: $crate::http::Request) -> $crate::http::HandlerFuture {
            Box::pin($f(app, req))
        }
        __boxed as $crate::http::HttpHandler
    }};
}

/// Default limit of a JSON request body.
pub const MAX_JSON_BODY: usize = 64 * 1024;
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The API Gateway request id (the local gateway sets one too).
pub fn request_id(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(id) = &ctx.request_id {
            return id.clone();
        }
    }
    ulid::Ulid::new().to_string()
}

/// Runs a handler and maps its outcome to the response: errors become the API.md error
/// body, every response carries the request id, internals are logged and never returned.
pub async fn respond(app: &'static App, req: Request, handler: HttpHandler) -> Response {
    let request_id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let route = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
        _ => None,
    };
    // The rate-limit count: before a write runs; beside a read (GET/HEAD change nothing, so
    // its answer is simply dropped when the caller turns out to be over), hiding the call.
    let subject = match app.settings.rate_limits.as_ref() {
        Some(l) => rate_subject(app, &req).map(|s| s.map(|s| (l, s))),
        None => Ok(None),
    };
    let read_only = method == http::Method::GET || method == http::Method::HEAD;
    let answer = |r: ApiResult<Response>| r.unwrap_or_else(|e| error_response(&e, &request_id));
    let form_allowed = route.as_deref().is_some_and(|r| FORM_ROUTES.contains(&r));
    let handler = move |req: Request| -> HandlerFuture {
        match check_media_type(&req, form_allowed) {
            Ok(()) => handler(app, req),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    };
    let refusal = |d: &crate::ratelimit::Decision| error_response(&rate_limited(d), &request_id);
    let (limited, mut resp) = match subject {
        Err(e) => (None, answer(Err(e))),
        Ok(None) => (None, answer(handler(req).await)),
        Ok(Some((limits, (caller, key, route)))) => {
            let now = crate::time::now_secs();
            if let Some(known) = crate::ratelimit::known_over(app, limits, &key, &route, now) {
                // Over already: refused before any work.
                let r = refusal(&known);
                (Some(known), r)
            } else {
                let counted = crate::ratelimit::count(app, limits, &caller, &key, &route, now);
                if read_only {
                    let (d, a) = futures::join!(counted, handler(req));
                    let r = if d.exceeded().is_some() { refusal(&d) } else { answer(a) };
                    (Some(d), r)
                } else {
                    let d = counted.await;
                    let r = if d.exceeded().is_some() {
                        refusal(&d)
                    } else {
                        answer(handler(req).await)
                    };
                    (Some(d), r)
                }
            }
        }
    };
    if let Some(d) = limited.filter(|d| !d.usage.is_empty()) {
        for (name, value) in [("ratelimit-policy", d.policy_header()), ("ratelimit", d.limit_header())] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
    }
    let status = resp.status().as_u16();
    if let Some(route) = route.as_deref() {
        crate::metrics::reply(route, status);
    }
    tracing::info!(request_id = %request_id, %method, %path, status, micros = started.elapsed().as_micros() as u64, "request");
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    security_headers(&mut resp, authenticated);
    resp
}

/// On every reply: HTTPS only (HSTS, a year, subdomains), no content sniffing, no framing,
/// no referrer; a reply to a request with credentials is never stored by a cache.
pub fn security_headers(resp: &mut Response, authenticated: bool) {
    let h = resp.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if authenticated {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Routes that take a form body (RFC 8058: mail clients post `List-Unsubscribe=One-Click`
/// as a form); every other body must be JSON ([`check_media_type`]).
pub const FORM_ROUTES: &[&str] = &["POST /unsubscribe"];

/// Routes outside every budget: they read no data and hold no keys (health, the API's
/// documents, unknown routes). API Gateway's stage throttling still bounds them.
pub const UNLIMITED: &[&str] = &["GET /health", "GET /openapi.json", "GET /docs", "$default"];

/// The client's address as API Gateway saw it (`requestContext.http.sourceIp`); empty
/// outside API Gateway.
pub fn source_ip(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Whose budgets a request counts against (the account of a valid bearer token, otherwise
/// the source IP), its counter's key and the route. `None` outside every budget.
fn rate_subject(app: &App, req: &Request) -> ApiResult<Option<(crate::ratelimit::Caller, String, String)>> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return Ok(None);
    };
    let Some(route) = ctx.route_key.as_deref().filter(|r| !UNLIMITED.contains(r)) else {
        return Ok(None);
    };
    let keys = app.tokens()?;
    let caller = match bearer_token(req).and_then(|t| keys.principal(t).ok()) {
        Some(p) => crate::ratelimit::Caller::Account(p.user_id),
        None => crate::ratelimit::Caller::Ip(ctx.http.source_ip.clone().unwrap_or_default()),
    };
    let key = caller.key(&keys);
    Ok(Some((caller, key, route.to_string())))
}

/// 429 `rate_limited` naming the budget the caller went over.
fn rate_limited(d: &crate::ratelimit::Decision) -> ApiError {
    let mut e =
        ApiError::too_many_requests(d.reset_secs, "too many requests; slow down and retry after the given time").with_code("rate_limited");
    if let Some(u) = d.exceeded() {
        e.details = Some(serde_json::json!({"policy": u.policy, "limit": u.limit, "window_seconds": d.window_secs}));
    }
    e
}

pub fn error_response(e: &ApiError, request_id: &str) -> Response {
    crate::metrics::error_code(e.code);
    if e.status.is_server_error() {
        tracing::error!(request_id = %request_id, error = %e, "request failed");
    } else {
        tracing::info!(request_id = %request_id, code = e.code, message = %e.message, "request rejected");
    }
    let mut resp = json_response(e.status, &e.body(request_id));
    if let Some(secs) = e.retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut resp = http::Response::new(Body::Text(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> ApiResult<Response> {
    Ok(json_response(status, body))
}

pub fn ok<T: Serialize + ?Sized>(body: &T) -> ApiResult<Response> {
    json(StatusCode::OK, body)
}

pub fn created<T: Serialize + ?Sized>(body: &T) -> ApiResult<Response> {
    json(StatusCode::CREATED, body)
}

pub fn status_only(status: StatusCode) -> ApiResult<Response> {
    let mut resp = http::Response::new(Body::Empty);
    *resp.status_mut() = status;
    Ok(resp)
}

pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// A request body is JSON or nothing: a body sent as anything but `application/json`
/// (parameters such as `charset=utf-8` allowed) is 415 `unsupported_media_type`, before any
/// handler reads it. A form or `text/plain` body is what a page of another site can send
/// without a CORS preflight; it never reaches a handler.
pub fn check_media_type(req: &Request, form_allowed: bool) -> ApiResult<()> {
    if body_bytes(req).is_empty() {
        return Ok(());
    }
    let declared = header_str(req, header::CONTENT_TYPE.as_str()).unwrap_or_default();
    let essence = declared.split(';').next().unwrap_or_default().trim();
    let form = ["application/x-www-form-urlencoded", "multipart/form-data"];
    if essence.eq_ignore_ascii_case("application/json") || (form_allowed && form.iter().any(|f| essence.eq_ignore_ascii_case(f))) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "the request body must be sent as application/json",
    ))
}

/// Parses a JSON body of at most [`MAX_JSON_BODY`] bytes.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> ApiResult<T> {
    parse_json_bytes(body_bytes(req), MAX_JSON_BODY)
}

/// Malformed JSON is 400; well-formed JSON of the wrong shape (missing or unknown fields,
/// wrong types) is 422 naming the field; too large is 413.
pub fn parse_json_bytes<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> ApiResult<T> {
    if bytes.len() > limit {
        return Err(ApiError::too_large(format!("the request body is larger than {limit} bytes")));
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::bad_request("a JSON request body is required")),
        Some(b'{') => {}
        Some(_) => return Err(ApiError::bad_request("the request body must be a JSON object")),
    }
    // Syntax first, so a truncated body is 400 even when an early field is also wrong.
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return Err(ApiError::bad_request("the request body is not valid JSON"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => return Err(map_json_error(e)),
    };
    de.end().map_err(|_| ApiError::bad_request("the request body is not valid JSON"))?;
    Ok(value)
}

fn map_json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request("the request body is not valid JSON"),
        Category::Data => {
            let text = inner.to_string();
            let text = match text.rfind(" at line ") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let field = if path.is_empty() || path == "." {
                // Missing and unknown fields are reported on the enclosing object.
                match (text.find('`'), text[text.find('`').map_or(0, |i| i + 1)..].find('`')) {
                    (Some(a), Some(len)) if text.starts_with("missing field") || text.starts_with("unknown field") => {
                        text[a + 1..a + 1 + len].to_string()
                    }
                    _ => "body".to_string(),
                }
            } else {
                path
            };
            ApiError::invalid_field(&field, text)
        }
    }
}

pub fn bearer_token(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Some(token.trim())
    } else {
        None
    }
}

/// The account named by a validly signed access token, without the session gate: only for
/// ending a session (logging out twice, or after a suspension, is fine).
pub fn token_principal(app: &App, req: &Request) -> ApiResult<Principal> {
    let token = bearer_token(req).ok_or_else(|| ApiError::unauthorized("an access token is required").with_code("missing_token"))?;
    app.tokens()?.principal(token)
}

/// The caller proven by the access token whose session and account are still live
/// ([`crate::session`]), or 401 (403 `account_suspended`).
pub async fn authenticate(app: &App, req: &Request) -> ApiResult<Principal> {
    let p = token_principal(app, req)?;
    crate::session::check(app, &p).await?;
    Ok(p)
}

/// The caller, who must have one of `roles`, or 401/403.
pub async fn require_role(app: &App, req: &Request, roles: &[Role]) -> ApiResult<Principal> {
    let p = authenticate(app, req).await?;
    if roles.contains(&p.role) {
        Ok(p)
    } else {
        Err(ApiError::forbidden("your role may not do this"))
    }
}

pub fn path_param(req: &Request, name: &str) -> ApiResult<String> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_string)
        .ok_or_else(|| ApiError::not_found("no such resource"))
}

/// The ULID in path parameter `name`, canonical (upper case); anything else is 404 "no such
/// `what`" (a made-up id names nothing). Every `{id}`-like path parameter is read this way.
pub fn id_param(req: &Request, name: &str, what: &str) -> ApiResult<String> {
    let raw = path_param(req, name)?;
    ulid::Ulid::from_string(&raw)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::not_found(format!("no such {what}")))
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
}

pub fn header_str<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        remember_me: Option<bool>,
    }

    fn err(body: &str) -> ApiError {
        parse_json_bytes::<Login>(body.as_bytes(), 100).unwrap_err()
    }

    #[test]
    fn classifies_json_problems() {
        assert_eq!(err("{").status, StatusCode::BAD_REQUEST);
        assert_eq!(err("{\"unknown\": ").status, StatusCode::BAD_REQUEST);
        assert_eq!(err("").status, StatusCode::BAD_REQUEST);
        assert_eq!(err("nonsense").status, StatusCode::BAD_REQUEST);
        assert_eq!(err("[1,2]").status, StatusCode::BAD_REQUEST);
        assert_eq!(err("{\"email\":\"a\"} trailing").status, StatusCode::BAD_REQUEST);
        let e = err("{}");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.details.unwrap().get("email").is_some());
        let e = err("{\"email\": 5}");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.details.unwrap().get("email").is_some());
        let e = err("{\"email\": \"x\", \"role\": \"admin\"}");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.details.unwrap().get("role").is_some());
        let e = err(&format!("{{\"email\": \"{}\"}}", "x".repeat(200)));
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(parse_json_bytes::<Login>(b"{\"email\":\"a\",\"remember_me\":true}", 100).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_give_4xx_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Err(e) = parse_json_bytes::<Login>(&bytes, 200) {
                proptest::prop_assert!(e.status.is_client_error());
            }
        }

        #[test]
        fn arbitrary_json_objects_give_4xx_never_panic(k in "[a-z_]{0,12}", v in proptest::prelude::any::<i64>()) {
            let body = format!("{{\"{k}\": {v}}}");
            if let Err(e) = parse_json_bytes::<Login>(body.as_bytes(), 200) {
                proptest::prop_assert!(e.status.is_client_error());
            }
        }
    }
}
