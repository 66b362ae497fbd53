//! Live notifications over the WebSocket API (`/ws`): `$connect` takes an access token
//! (`?token=` — browsers cannot set headers on a WebSocket — or `Authorization: Bearer`) and
//! stores the connection; `$disconnect` removes it; the consumer posts each new in-app
//! notification to its recipient's open connections (PostToConnection) and removes the ones
//! API Gateway reports gone (410).
//!
//! | item | PK | SK |
//! |---|---|---|
//! | connection (listed per user) | `USER#<user>` | `LIVE#<connection id>` |
//! | connection owner (for `$disconnect`) | `LIVE#<connection id>` | `LIVE` |
//!
//! Both carry `expires_at` (API Gateway ends a connection after 2 hours): a `$disconnect`
//! that never came leaves items the sender skips once expired and TTL deletes later.

use std::future::Future;
use std::pin::Pin;

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use common::db::{self, Keyed};
use common::tx::Tx;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};

use crate::inbox::Notification;

/// API Gateway's longest WebSocket connection.
pub const MAX_AGE_SECS: i64 = 2 * 3600;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Connection {
    connection_id: String,
    user_id: String,
    connected_at: String,
    expires_at: i64,
    ttl: i64,
}

fn sk(connection_id: &str) -> String {
    format!("LIVE#{connection_id}")
}
fn owner_pk(connection_id: &str) -> String {
    format!("LIVE#{connection_id}")
}
const OWNER_SK: &str = "LIVE";

/// A message on the socket: the notification as GET /me/notifications lists it, with
/// `type: "notification"`.
#[derive(Serialize)]
struct LiveMessage<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    notification: &'a Notification,
}

fn reply(status: i64, body: Option<&str>) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.body = body.map(|b| Body::Text(b.to_string()));
    r
}

fn refusal(e: &ApiError) -> ApiGatewayProxyResponse {
    let body = serde_json::json!({"error": e.code, "message": e.message}).to_string();
    reply(i64::from(e.status.as_u16()), Some(&body))
}

/// The access token a connection request carries.
fn token_of(req: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
    let q = &req.query_string_parameters;
    q.first("token")
        .or_else(|| q.first("access_token"))
        .map(str::to_string)
        .or_else(|| {
            req.headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_string())
        })
        .filter(|t| !t.is_empty())
}

async fn open(app: &App, req: &ApiGatewayWebsocketProxyRequest) -> ApiResult<()> {
    let token = token_of(req).ok_or_else(|| ApiError::unauthorized("an access token is required (?token=)"))?;
    let me = app.tokens()?.principal(&token)?;
    common::session::check(app, &me).await?;
    let connection_id = req
        .request_context
        .connection_id
        .clone()
        .ok_or_else(|| ApiError::internal("a $connect event without a connection id"))?;
    let now = common::time::now_secs();
    let c = Connection {
        connection_id: connection_id.clone(),
        user_id: me.user_id.clone(),
        connected_at: common::time::now_rfc3339(),
        expires_at: now + MAX_AGE_SECS,
        ttl: now + MAX_AGE_SECS + 3600,
    };
    // Only a live account connects: the transaction checks it.
    auth::account::writes_by(app, &me)
        .put(
            "connection",
            &Keyed::new(
                auth::account::partition(&me.user_id),
                sk(&connection_id),
                "live_connection",
                c.clone(),
            ),
        )
        .put("owner", &Keyed::new(owner_pk(&connection_id), OWNER_SK, "live_connection_owner", c))
        .commit()
        .await?;
    Ok(())
}

/// `$connect`: a connection of a signed-in, active account is stored; anything else is
/// refused (401/403: the handshake fails with that status).
pub fn connect(app: &'static App, req: ApiGatewayWebsocketProxyRequest) -> Pin<Box<dyn Future<Output = ApiGatewayProxyResponse> + Send>> {
    Box::pin(async move {
        match open(app, &req).await {
            Ok(()) => reply(200, None),
            Err(e) => {
                if e.status.is_server_error() {
                    tracing::error!(error = %e.message, source = ?e.source, "a live connection failed");
                }
                refusal(&e)
            }
        }
    })
}

async fn forget(app: &App, connection_id: &str) -> ApiResult<()> {
    let Some(owner) = db::get::<Keyed<Connection>>(app, owner_pk(connection_id), OWNER_SK).await? else {
        return Ok(());
    };
    Tx::new(app)
        .delete("owner", db::key(owner_pk(connection_id), OWNER_SK), None)
        .delete(
            "connection",
            db::key(auth::account::partition(&owner.value.user_id), sk(connection_id)),
            None,
        )
        .commit()
        .await?;
    Ok(())
}

/// `$disconnect`: the connection is forgotten.
pub fn disconnect(
    app: &'static App,
    req: ApiGatewayWebsocketProxyRequest,
) -> Pin<Box<dyn Future<Output = ApiGatewayProxyResponse> + Send>> {
    Box::pin(async move {
        let Some(id) = req.request_context.connection_id.as_deref() else {
            return reply(400, None);
        };
        match forget(app, id).await {
            Ok(()) => reply(200, None),
            Err(e) => {
                tracing::error!(error = %e.message, source = ?e.source, "forgetting a live connection failed");
                reply(500, None)
            }
        }
    })
}

async fn connections(app: &App, user_id: &str) -> ApiResult<Vec<Connection>> {
    let now = common::time::now_secs();
    Ok(db::query_all(app, None, auth::account::partition(user_id), Some("LIVE#"))
        .await?
        .into_iter()
        .filter_map(|i| db::from_item::<Keyed<Connection>>(i).ok())
        .map(|k| k.value)
        .filter(|c| c.expires_at > now)
        .collect())
}

/// Posts `n` to the user's open connections; connections API Gateway reports gone are
/// removed. Never fails: live delivery must not hold up the other channels.
pub async fn send(app: &App, user_id: &str, n: &Notification) {
    let Some(api) = app.live() else {
        tracing::debug!("no LIVE_ENDPOINT: live delivery is off");
        return;
    };
    let open = match connections(app, user_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e.message, "reading live connections failed");
            return;
        }
    };
    if open.is_empty() {
        return;
    }
    let data = match serde_json::to_vec(&LiveMessage {
        r#type: "notification",
        notification: n,
    }) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "encoding a live message failed");
            return;
        }
    };
    for c in open {
        let sent = api
            .post_to_connection()
            .connection_id(&c.connection_id)
            .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(data.clone()))
            .send()
            .await;
        match sent {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_gone_exception()) => {
                if let Err(e) = forget(app, &c.connection_id).await {
                    tracing::warn!(error = %e.message, "removing a gone connection failed");
                }
            }
            Err(e) => tracing::warn!(error = %aws_sdk_apigatewaymanagement::error::DisplayErrorContext(e), "a live post failed"),
        }
    }
}

/// An open live-notification connection in its owner's data export.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExportedConnection {
    pub id: String,
    pub connected_at: String,
    /// RFC 3339: when the connection is closed at the latest.
    pub expires_at: String,
}

/// The user's open connections (export): id, connected_at, expires_at.
pub async fn export(app: &App, user_id: &str) -> ApiResult<Vec<ExportedConnection>> {
    Ok(connections(app, user_id)
        .await?
        .into_iter()
        .map(|c| ExportedConnection {
            expires_at: common::time::rfc3339(c.expires_at),
            id: c.connection_id,
            connected_at: c.connected_at,
        })
        .collect())
}

/// Erasure: closes the user's connections and returns the owner items' keys for the caller
/// to delete with the rest (the connections go with the partition).
pub async fn erase(app: &App, user_id: &str) -> ApiResult<Vec<db::Item>> {
    let mut owners = Vec::new();
    for item in db::query_all(app, None, auth::account::partition(user_id), Some("LIVE#")).await? {
        let c = db::from_item::<Keyed<Connection>>(item)?.value;
        if let Some(api) = app.live() {
            if let Err(e) = api.delete_connection().connection_id(&c.connection_id).send().await {
                if !e.as_service_error().is_some_and(|s| s.is_gone_exception()) {
                    tracing::warn!(error = %aws_sdk_apigatewaymanagement::error::DisplayErrorContext(e),
                        "closing a live connection failed; it ends within 2 hours");
                }
            }
        }
        owners.push(db::key(owner_pk(&c.connection_id), OWNER_SK));
    }
    Ok(owners)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_query_or_the_header() {
        let mut req = ApiGatewayWebsocketProxyRequest::default();
        assert_eq!(token_of(&req), None);
        req.headers.insert(http::header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(token_of(&req).as_deref(), Some("abc"));
        req.query_string_parameters = std::collections::HashMap::from([("token".to_string(), "q".to_string())]).into();
        assert_eq!(token_of(&req).as_deref(), Some("q"), "the query wins");
    }

    #[test]
    fn messages_are_the_listed_notification_with_a_type() {
        let n = Notification {
            id: "1".into(),
            kind: crate::inbox::Kind::Interview,
            title: "t".into(),
            body: "b".into(),
            data: crate::inbox::NotificationData {
                job_id: Some("j".into()),
                ..Default::default()
            },
            created_at: "2026-01-01T00:00:00Z".into(),
            read_at: None,
        };
        let v = serde_json::to_value(LiveMessage {
            r#type: "notification",
            notification: &n,
        })
        .unwrap();
        assert_eq!(v["type"], "notification");
        assert_eq!(v["kind"], "interview");
        assert_eq!(v["read_at"], serde_json::Value::Null);
    }
}
