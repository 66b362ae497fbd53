//! The local WebSocket API: `/ws` on the gateway's port accepts WebSocket connections the way
//! API Gateway does (the `$connect` route's function decides: a non-2xx status refuses the
//! handshake with that status; a closed socket runs `$disconnect`). The management API
//! (PostToConnection, GetConnection, DeleteConnection at `/ws/@connections/{id}`; 410
//! `GoneException` for a connection that is not open) is served on a listener of its own on
//! loopback, which the functions reach through `LIVE_ENDPOINT`: on AWS it takes IAM-signed
//! calls only, so the public port must not answer it (anyone could write to or close
//! another user's connection).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use bytes::Bytes;
use common::access::Declared;
use common::runtime::WsHandler;
use common::App;
use futures::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Where the WebSocket API and its management API are served.
pub const PATH: &str = "/ws";
/// The management API's path prefix.
const CONNECTIONS: &str = "/ws/@connections/";

enum Outgoing {
    Data(Vec<u8>),
    Close,
}

struct Open {
    tx: mpsc::UnboundedSender<Outgoing>,
    connected_at: chrono::DateTime<chrono::Utc>,
    last_active_at: chrono::DateTime<chrono::Utc>,
    source_ip: String,
    user_agent: String,
}

/// The WebSocket API of one local stack.
pub struct LiveApi {
    app: &'static App,
    routes: HashMap<String, (WsHandler, Option<Declared>)>,
    open: Mutex<HashMap<String, Open>>,
    stop: watch::Receiver<bool>,
}

type Response = hyper::Response<Full<Bytes>>;

/// What API Gateway tells each route of a connection about its client.
struct Client {
    headers: http::HeaderMap,
    query: String,
    ip: String,
}

fn respond(status: u16, body: &str) -> Response {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if !body.is_empty() {
        r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    }
    r
}

fn gone() -> Response {
    let mut r = respond(410, r#"{"message":null}"#);
    r.headers_mut().insert("x-amzn-errortype", "GoneException".parse().unwrap());
    r
}

impl LiveApi {
    /// `routes`: route key (`$connect`, `$disconnect`, `$default`) -> handler and what its
    /// row declares (its DynamoDB calls are held to it).
    pub fn new(app: &'static App, routes: HashMap<String, (WsHandler, Option<Declared>)>, stop: watch::Receiver<bool>) -> Arc<Self> {
        Arc::new(LiveApi {
            app,
            routes,
            open: Mutex::new(HashMap::new()),
            stop,
        })
    }

    /// Whether the public gateway should hand `path` to this API (the upgrade only).
    pub fn serves(path: &str) -> bool {
        path == PATH
    }

    pub async fn handle(self: Arc<Self>, req: hyper::Request<Incoming>, peer: std::net::SocketAddr) -> Response {
        self.upgrade(req, peer).await
    }

    /// A request to the management listener: `/ws/@connections/{id}`, else 404.
    pub async fn handle_management(self: Arc<Self>, req: hyper::Request<Incoming>) -> Response {
        let path = req.uri().path().to_string();
        match path.strip_prefix(CONNECTIONS) {
            Some(id) => self.manage(req, &crate::gateway::percent_decode(id)).await,
            None => respond(404, r#"{"message":"Not Found"}"#),
        }
    }

    /// The management API.
    async fn manage(&self, req: hyper::Request<Incoming>, id: &str) -> Response {
        let method = req.method().clone();
        let body = match http_body_util::BodyExt::collect(req.into_body()).await {
            Ok(b) => b.to_bytes(),
            Err(_) => return respond(400, r#"{"message":"unreadable body"}"#),
        };
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let Some(conn) = open.get_mut(id) else {
            return gone();
        };
        match method {
            http::Method::POST => {
                if body.len() > 128 * 1024 {
                    return respond(413, r#"{"message":"Request Entity Too Large"}"#);
                }
                if conn.tx.send(Outgoing::Data(body.to_vec())).is_err() {
                    return gone();
                }
                respond(200, "")
            }
            http::Method::GET => {
                let v = serde_json::json!({
                    "connectedAt": conn.connected_at.to_rfc3339(),
                    "lastActiveAt": conn.last_active_at.to_rfc3339(),
                    "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                });
                respond(200, &v.to_string())
            }
            http::Method::DELETE => {
                let _ = conn.tx.send(Outgoing::Close);
                open.remove(id);
                respond(204, "")
            }
            _ => respond(405, r#"{"message":"Method Not Allowed"}"#),
        }
    }

    fn event(&self, id: &str, route: &str, kind: &str, client: &Client, extra: serde_json::Value) -> serde_json::Value {
        let (headers, query, peer) = (&client.headers, client.query.as_str(), client.ip.as_str());
        let now = chrono::Utc::now();
        let mut h = serde_json::Map::new();
        for (name, value) in headers {
            h.insert(
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned().into(),
            );
        }
        let mut q = serde_json::Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            q.insert(
                crate::gateway::percent_decode(&k.replace('+', " ")),
                crate::gateway::percent_decode(&v.replace('+', " ")).into(),
            );
        }
        let mut e = serde_json::json!({
            "headers": h,
            "isBase64Encoded": false,
            "requestContext": {
                "routeKey": route,
                "eventType": kind,
                "messageDirection": "IN",
                "stage": "live",
                "connectedAt": now.timestamp_millis(),
                "requestTimeEpoch": now.timestamp_millis(),
                "requestTime": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "identity": {"sourceIp": peer, "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("")},
                "requestId": ulid::Ulid::new().to_string(),
                "extendedRequestId": ulid::Ulid::new().to_string(),
                "domainName": headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1"),
                "connectionId": id,
                "apiId": "local-live",
            },
        });
        if !q.is_empty() {
            e["queryStringParameters"] = serde_json::Value::Object(q);
        }
        if let (Some(o), Some(x)) = (e.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                match (k.as_str(), o.get_mut("requestContext")) {
                    ("requestContext", Some(ctx)) => {
                        for (ck, cv) in v.as_object().into_iter().flatten() {
                            ctx[ck] = cv.clone();
                        }
                    }
                    _ => {
                        o.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        e
    }

    /// Runs a route's function with an event, as the Lambda runtime would (JSON in).
    async fn invoke(&self, route: &str, event: serde_json::Value) -> Option<ApiGatewayProxyResponse> {
        let (handler, declared) = self.routes.get(route)?;
        match serde_json::from_value::<ApiGatewayWebsocketProxyRequest>(event) {
            Ok(req) => Some(match declared {
                Some(d) => common::access::DECLARED.scope(*d, handler(self.app, req)).await,
                None => handler(self.app, req).await,
            }),
            Err(e) => {
                tracing::error!(error = %e, route, "building the WebSocket event failed");
                let mut r = ApiGatewayProxyResponse::default();
                r.status_code = 500;
                Some(r)
            }
        }
    }

    /// A WebSocket handshake: `$connect` decides, then the socket is served.
    async fn upgrade(self: Arc<Self>, mut req: hyper::Request<Incoming>, peer: std::net::SocketAddr) -> Response {
        let is_ws = req
            .headers()
            .get(http::header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let Some(key) = req.headers().get("sec-websocket-key").cloned().filter(|_| is_ws) else {
            return respond(426, r#"{"message":"Upgrade Required"}"#);
        };
        let id = ulid::Ulid::new().to_string();
        let client = Client {
            headers: req.headers().clone(),
            query: req.uri().query().unwrap_or("").to_string(),
            ip: peer.ip().to_string(),
        };
        let event = self.event(&id, "$connect", "CONNECT", &client, serde_json::json!({}));
        if let Some(r) = self.invoke("$connect", event).await {
            if !(200..300).contains(&r.status_code) {
                let body = match r.body {
                    Some(aws_lambda_events::encodings::Body::Text(t)) => t,
                    _ => String::new(),
                };
                return respond(r.status_code as u16, &body);
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let now = chrono::Utc::now();
        self.open.lock().unwrap_or_else(|p| p.into_inner()).insert(
            id.clone(),
            Open {
                tx,
                connected_at: now,
                last_active_at: now,
                source_ip: client.ip.clone(),
                user_agent: client
                    .headers
                    .get("user-agent")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
            },
        );
        let upgrade = hyper::upgrade::on(&mut req);
        let api = self.clone();
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
                    api.serve_socket(&id, &client, ws, rx).await;
                }
                Err(e) => tracing::warn!(error = %e, "a WebSocket upgrade failed"),
            }
            let was_open = api.open.lock().unwrap_or_else(|p| p.into_inner()).remove(&id).is_some();
            let reason = if was_open {
                "Client-side close frame status code '1000'"
            } else {
                "Connection closed by the server"
            };
            let extra = serde_json::json!({"requestContext": {"disconnectStatusCode": 1000, "disconnectReason": reason}});
            let event = api.event(&id, "$disconnect", "DISCONNECT", &client, extra);
            api.invoke("$disconnect", event).await;
        });
        let mut r = respond(101, "");
        let h = r.headers_mut();
        h.insert(http::header::CONNECTION, "Upgrade".parse().unwrap());
        h.insert(http::header::UPGRADE, "websocket".parse().unwrap());
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        h.insert("sec-websocket-accept", accept.parse().unwrap());
        r
    }

    /// Forwards posted data to the client and the client's messages to `$default` (or, as API
    /// Gateway does without one, answers them `Forbidden`) until either side closes.
    async fn serve_socket(
        &self,
        id: &str,
        client: &Client,
        ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
        mut rx: mpsc::UnboundedReceiver<Outgoing>,
    ) {
        let (mut sink, mut stream) = ws.split();
        let mut stop = self.stop.clone();
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Outgoing::Data(d)) => {
                        let msg = match String::from_utf8(d) {
                            Ok(t) => Message::text(t),
                            Err(e) => Message::binary(e.into_bytes()),
                        };
                        if sink.send(msg).await.is_err() {
                            break;
                        }
                    }
                    Some(Outgoing::Close) | None => {
                        let _ = sink.send(Message::Close(None)).await;
                        break;
                    }
                },
                inc = stream.next() => match inc {
                    Some(Ok(Message::Text(t))) => {
                        if let Some(c) = self.open.lock().unwrap_or_else(|p| p.into_inner()).get_mut(id) {
                            c.last_active_at = chrono::Utc::now();
                        }
                        if self.routes.contains_key("$default") {
                            let extra = serde_json::json!({"body": t.as_str(), "requestContext": {"routeKey": "$default", "eventType": "MESSAGE"}});
                            let event = self.event(id, "$default", "MESSAGE", client, extra);
                            self.invoke("$default", event).await;
                        } else {
                            let reply = serde_json::json!({"message": "Forbidden", "connectionId": id, "requestId": ulid::Ulid::new().to_string()});
                            if sink.send(Message::text(reply.to_string())).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                _ = stop.changed() => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            }
        }
    }
}

/// Serves the management API on `listener` until `stop` changes.
pub async fn serve_management(live: Arc<LiveApi>, listener: tokio::net::TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let live = live.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let live = live.clone();
                        async move { Ok::<_, std::convert::Infallible>(live.handle_management(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), svc).await;
                });
            }
            _ = stop.changed() => break,
        }
    }
}
