//! The local API gateway: serves every HttpApi route of template.yaml, turning each HTTP
//! request into the API Gateway v2 (payload 2.0) event a Lambda gets and running it through
//! lambda_http's own adapter into the same handler code the function binary runs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use lambda_http::Service;

use common::http::HttpHandler;
use common::App;

use crate::template::Cors;

/// API Gateway's payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

#[derive(Clone)]
pub struct Route {
    pub method: String,
    pub path: String,
    segments: Vec<Segment>,
    pub binary: String,
    handler: HttpHandler,
    /// What its row declares: its DynamoDB calls are checked against it (none: unchecked).
    declared: Option<common::access::Declared>,
}

#[derive(Clone, Debug)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Route {
    pub fn new(method: &str, path: &str, binary: &str, handler: HttpHandler) -> Self {
        let segments = path
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
                    Segment::Greedy(name.to_string())
                } else if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Segment::Param(name.to_string())
                } else {
                    Segment::Literal(s.to_string())
                }
            })
            .collect();
        Route {
            method: method.to_string(),
            path: path.to_string(),
            segments,
            binary: binary.to_string(),
            handler,
            declared: None,
        }
    }

    /// Checks the route's DynamoDB calls against what its row declares.
    pub fn declaring(mut self, declared: Option<common::access::Declared>) -> Self {
        self.declared = declared;
        self
    }

    fn matches(&self, method: &str, path: &str) -> Option<HashMap<String, String>> {
        if self.method != "ANY" && self.method != method {
            return None;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut params = HashMap::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let v = parts.get(i).filter(|v| !v.is_empty())?;
                    params.insert(name.clone(), percent_decode(v));
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?.join("/");
                    params.insert(name.clone(), percent_decode(&rest));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Literal routes win over parameterised ones, as in API Gateway.
    fn specificity(&self) -> (usize, usize) {
        let lits = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        (lits, self.segments.len())
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(hi), Some(lo)) = ((b[i + 1] as char).to_digit(16), (b[i + 2] as char).to_digit(16)) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct Gateway {
    pub app: &'static App,
    routes: Vec<Route>,
    default_route: Option<Route>,
    cors: Option<Cors>,
    /// The WebSocket API at `/ws`, when the template has one.
    live: Option<Arc<crate::live::LiveApi>>,
}

impl Gateway {
    pub fn new(app: &'static App, mut routes: Vec<Route>, cors: Option<Cors>, live: Option<Arc<crate::live::LiveApi>>) -> Self {
        let default_route = routes.iter().position(|r| r.path == "$default").map(|i| routes.remove(i));
        routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        Gateway {
            app,
            routes,
            default_route,
            cors,
            live,
        }
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().chain(self.default_route.iter())
    }

    pub async fn serve(
        self: Arc<Self>,
        req: hyper::Request<Incoming>,
        peer: std::net::SocketAddr,
    ) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
        if let Some(live) = self.live.as_ref().filter(|_| crate::live::LiveApi::serves(req.uri().path())) {
            return Ok(live.clone().handle(req, peer).await);
        }
        Ok(self.handle(req, peer).await)
    }

    async fn handle(&self, req: hyper::Request<Incoming>, peer: std::net::SocketAddr) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let origin = parts.headers.get("origin").and_then(|v| v.to_str().ok()).map(str::to_string);
        if parts.method == http::Method::OPTIONS && parts.headers.contains_key("access-control-request-method") {
            if let (Some(cors), Some(o)) = (&self.cors, &origin) {
                return self.preflight(cors, o);
            }
        }
        let body = match Limited::new(body, MAX_PAYLOAD).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return plain(413, r#"{"message":"Request Entity Too Large"}"#),
        };
        let method = parts.method.as_str().to_string();
        let path = parts.uri.path().to_string();
        let found = self.routes.iter().find_map(|r| r.matches(&method, &path).map(|p| (r, p)));
        let (route, params) = match found {
            Some(f) => f,
            None => match &self.default_route {
                Some(d) => (d, HashMap::new()),
                None => return plain(404, r#"{"message":"Not Found"}"#),
            },
        };
        let event = api_gateway_event(&parts, &body, route, params, peer);
        let mut resp = match route.declared {
            Some(d) => common::access::DECLARED.scope(d, self.invoke(route.handler, event)).await,
            None => self.invoke(route.handler, event).await,
        };
        if let (Some(cors), Some(o)) = (&self.cors, &origin) {
            if let Some(allowed) = allowed_origin(cors, o) {
                let h = resp.headers_mut();
                h.insert("access-control-allow-origin", allowed.parse().unwrap());
                if !cors.expose_headers.is_empty() {
                    h.insert("access-control-expose-headers", cors.expose_headers.join(",").parse().unwrap());
                }
            }
        }
        resp
    }

    fn preflight(&self, cors: &Cors, origin: &str) -> hyper::Response<Full<Bytes>> {
        let mut resp = plain(204, "");
        if let Some(allowed) = allowed_origin(cors, origin) {
            let h = resp.headers_mut();
            h.insert("access-control-allow-origin", allowed.parse().unwrap());
            h.insert("access-control-allow-methods", cors.allow_methods.join(",").parse().unwrap());
            h.insert("access-control-allow-headers", cors.allow_headers.join(",").parse().unwrap());
            if let Some(age) = cors.max_age {
                h.insert("access-control-max-age", age.into());
            }
        }
        resp
    }

    /// Runs the event through lambda_http's adapter, exactly as the Lambda runtime would.
    async fn invoke(&self, handler: HttpHandler, event: serde_json::Value) -> hyper::Response<Full<Bytes>> {
        let app = self.app;
        let lambda_req: lambda_http::request::LambdaRequest = match serde_json::from_value(event) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "building the API Gateway event failed");
                return plain(500, r#"{"message":"Internal Server Error"}"#);
            }
        };
        let svc = lambda_http::service_fn(move |req: lambda_http::Request| async move {
            Ok::<_, Infallible>(common::http::respond(app, req, handler).await)
        });
        let mut adapter = lambda_http::Adapter::from(svc);
        let out = match adapter
            .call(lambda_http::LambdaEvent::new(lambda_req, lambda_runtime::Context::default()))
            .await
        {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let v = serde_json::to_value(&out).unwrap_or_default();
        to_http(&v)
    }
}

fn allowed_origin(cors: &Cors, origin: &str) -> Option<String> {
    if cors.allow_origins.iter().any(|o| o == "*") {
        Some("*".into())
    } else {
        cors.allow_origins.iter().find(|o| *o == origin).cloned()
    }
}

fn plain(status: u16, body: &str) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if !body.is_empty() {
        r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    }
    r.headers_mut()
        .insert("apigw-requestid", ulid::Ulid::new().to_string().parse().unwrap());
    r
}

/// The API Gateway v2 payload (format 2.0) for one request.
fn api_gateway_event(
    parts: &http::request::Parts,
    body: &Bytes,
    route: &Route,
    params: HashMap<String, String>,
    peer: std::net::SocketAddr,
) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(v.split(';').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(serde_json::Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                headers.insert(name.as_str().to_string(), serde_json::Value::String(v));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let mut query: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")));
        match query.get_mut(&k) {
            Some(serde_json::Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, serde_json::Value::String(v));
            }
        }
    }
    let (body_field, is_b64) = if body.is_empty() {
        (serde_json::Value::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(s) => (serde_json::Value::String(s.to_string()), false),
            Err(_) => (
                serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            ),
        }
    };
    let route_key = if route.path == "$default" {
        "$default".to_string()
    } else {
        format!("{} {}", route.method, route.path)
    };
    let now = chrono::Utc::now();
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": crate::provision::ACCOUNT_ID,
            "apiId": "local",
            "domainName": parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": ulid::Ulid::new().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": is_b64,
    });
    let o = event.as_object_mut().unwrap();
    if !cookies.is_empty() {
        o.insert("cookies".into(), serde_json::json!(cookies));
    }
    if !query.is_empty() {
        o.insert("queryStringParameters".into(), serde_json::Value::Object(query));
    }
    if !params.is_empty() {
        o.insert("pathParameters".into(), serde_json::json!(params));
    }
    if !body_field.is_null() {
        o.insert("body".into(), body_field);
    }
    event
}

/// The Lambda's API Gateway v2 response -> HTTP.
fn to_http(v: &serde_json::Value) -> hyper::Response<Full<Bytes>> {
    let status = v.get("statusCode").and_then(|s| s.as_u64()).unwrap_or(500) as u16;
    let body = v.get("body").and_then(|b| b.as_str()).unwrap_or("");
    let bytes = if v.get("isBase64Encoded").and_then(|b| b.as_bool()).unwrap_or(false) {
        base64::engine::general_purpose::STANDARD.decode(body).unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    };
    let mut resp = hyper::Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(h) = v.get("headers").and_then(|h| h.as_object()) {
        for (k, val) in h {
            if let (Ok(name), Some(s)) = (http::HeaderName::from_bytes(k.as_bytes()), val.as_str()) {
                if let Ok(hv) = http::HeaderValue::from_str(s) {
                    resp.headers_mut().append(name, hv);
                }
            }
        }
    }
    for c in v.get("cookies").and_then(|c| c.as_array()).into_iter().flatten() {
        if let Some(Ok(hv)) = c.as_str().map(http::HeaderValue::from_str) {
            resp.headers_mut().append(http::header::SET_COOKIE, hv);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(_: &'static App, _: common::http::Request) -> common::http::HandlerFuture {
        Box::pin(async { common::http::ok(&()) })
    }

    #[test]
    fn route_matching() {
        let r = Route::new("GET", "/jobs/{id}", "b", h);
        assert_eq!(r.matches("GET", "/jobs/01ABC").unwrap()["id"], "01ABC");
        assert!(r.matches("POST", "/jobs/01ABC").is_none());
        assert!(r.matches("GET", "/jobs").is_none());
        assert!(r.matches("GET", "/jobs/").is_none());
        assert!(r.matches("GET", "/jobs/1/x").is_none());
        assert_eq!(
            Route::new("GET", "/f/{p+}", "b", h).matches("GET", "/f/a/b%20c").unwrap()["p"],
            "a/b c"
        );
        let lit = Route::new("GET", "/jobs/featured", "b", h);
        assert!(lit.specificity() > r.specificity());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%é1"), "%é1");
    }
}
