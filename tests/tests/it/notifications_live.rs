//! Live notifications over the local WebSocket API (`/ws`): a real WebSocket client connects
//! with an access token and receives new notifications as they are stored; refused without
//! a valid token or a live account; `$disconnect`, gone connections (410), export and
//! erasure.

use std::time::{Duration, Instant};

use futures::StreamExt;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, Message};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn ws_url(s: &TestStack, token: &str) -> String {
    format!("ws://{}/ws?token={token}", s.running.addr)
}

async fn connect(s: &TestStack, token: &str) -> Socket {
    let (socket, resp) = tokio_tungstenite::connect_async(ws_url(s, token)).await.expect("connected");
    assert_eq!(resp.status().as_u16(), 101);
    socket
}

/// The handshake's status when the connection is refused.
async fn refused(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Ok(_) => panic!("connected: {url}"),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// The next JSON message on the socket, within `within`.
async fn next_message(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()?? {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).expect("JSON")),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

async fn closed(socket: &mut Socket, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, socket.next()).await {
            Ok(None | Some(Ok(Message::Close(_)) | Err(_))) => return true,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
    false
}

/// The user's connection items in the table.
async fn stored_connections(s: &TestStack, user_id: &str) -> Vec<String> {
    let app = s.running.app;
    common::db::query_all(app, None, format!("USER#{user_id}"), Some("LIVE#"))
        .await
        .unwrap()
        .iter()
        .filter_map(|i| common::db::get_s(i, "connection_id").map(str::to_string))
        .collect()
}

async fn connections_until(s: &TestStack, user_id: &str, want: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let c = stored_connections(s, user_id).await;
        if c.len() == want || start.elapsed() > Duration::from_secs(5) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_client_receives_new_notifications_live() {
    let s = TestStack::start().await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let mut socket = connect(&s, &seeker.token).await;
    let mut second = connect(&s, &seeker.token).await;
    let mut owners = connect(&s, &owner.token).await;
    assert_eq!(connections_until(&s, &seeker.id, 2).await.len(), 2, "both tabs are stored");

    // The whole way: API -> table -> stream -> SNS -> SQS -> consumer -> PostToConnection.
    let category = admin.create_category().await;
    let company = owner.create_company("Live Co").await;
    let job = owner
        .post_job(&company, &category, json!({"title": "Signal keeper", "status": "published"}))
        .await;
    let application = seeker.apply(&job).await;
    let m = next_message(&mut owners, Duration::from_secs(15))
        .await
        .expect("the company hears live");
    assert_eq!(
        (m["type"].as_str(), m["kind"].as_str()),
        (Some("notification"), Some("new_applicant"))
    );
    owner.move_application(&application, "reviewed").await;
    for tab in [&mut socket, &mut second] {
        let m = next_message(tab, Duration::from_secs(15)).await.expect("every tab hears it");
        assert_eq!(m["kind"], "application_status");
        assert_eq!(m["data"]["application_id"], application.as_str());
        assert!(m["read_at"].is_null() && m["title"].as_str().unwrap().contains("Signal keeper"));
        // It is the stored notification itself.
        let listed = seeker.get("/me/notifications").await;
        assert_eq!(listed.body["items"][0]["id"], m["id"]);
    }

    // Within a second of the consumer handling the event.
    let notice = security_notice(&seeker.id);
    notifications::handle(s.running.app, notice.clone()).await.unwrap();
    let m = next_message(&mut socket, Duration::from_secs(1))
        .await
        .expect("live within a second");
    assert_eq!(
        (m["kind"].as_str(), m["id"].as_str()),
        (Some("account_security"), Some(notice.id.as_str()))
    );
    // Redelivered, nothing new goes out.
    notifications::handle(s.running.app, notice).await.unwrap();
    assert!(next_message(&mut socket, Duration::from_millis(500)).await.is_none(), "once");

    // Closing runs $disconnect: the connection is forgotten.
    second.close(None).await.unwrap();
    assert_eq!(connections_until(&s, &seeker.id, 1).await.len(), 1);
    // Messages from the client have no route (as API Gateway without $default answers).
    futures::SinkExt::send(&mut socket, Message::text(r#"{"action":"hello"}"#))
        .await
        .unwrap();
    let reply = next_message(&mut socket, Duration::from_secs(2)).await.unwrap();
    assert_eq!(reply["message"], "Forbidden");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_need_a_live_account_and_gone_ones_are_removed() {
    let s = TestStack::start_with(false, false).await;
    let (admin, ada) = (s.admin().await, s.seeker().await);
    let base = format!("ws://{}/ws", s.running.addr);
    assert_eq!(refused(&base).await, 401, "no token");
    assert_eq!(refused(&format!("{base}?token=not-a-token")).await, 401);
    // An expired token.
    let old = s
        .keys()
        .access_token(&ada.id, common::token::Role::Seeker, "s", common::time::now_secs() - 3600)
        .unwrap();
    assert_eq!(refused(&format!("{base}?token={old}")).await, 401);
    // A refresh token is not an access token.
    let refresh = s.keys().refresh_token(&ada.id, "s", "j", common::time::now_secs(), 3600).unwrap();
    assert_eq!(refused(&format!("{base}?token={refresh}")).await, 401);
    // A plain HTTP request to /ws is no WebSocket.
    let r = s.get("/ws", Some(&ada.token)).await;
    assert_eq!(r.status, StatusCode::UPGRADE_REQUIRED);

    // The bearer header works as well (mobile clients).
    let mut req = tungstenite::client::IntoClientRequest::into_client_request(base.as_str()).unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {}", ada.token).parse().unwrap());
    let (mut by_header, _) = tokio_tungstenite::connect_async(req).await.expect("bearer header accepted");

    // API Gateway dropped a connection without $disconnect: the next post gets 410 and the
    // connection is removed; the open one still gets the notification.
    let ghost = "01GHOSTC0NNECT10N000000000";
    let now = common::time::now_secs();
    for (pk, sk) in [
        (format!("USER#{}", ada.id), format!("LIVE#{ghost}")),
        (format!("LIVE#{ghost}"), "LIVE".to_string()),
    ] {
        let mut item = common::db::key(pk, sk);
        let fields = [
            ("connection_id", ghost),
            ("user_id", ada.id.as_str()),
            ("connected_at", "2026-01-01T00:00:00Z"),
            ("entity", "live_connection"),
        ];
        for (k, v) in fields {
            item.insert(k.into(), common::db::s(v));
        }
        item.insert("expires_at".into(), common::db::n(now + 3600));
        item.insert("ttl".into(), common::db::n(now + 7200));
        s.running
            .app
            .dynamo()
            .put_item()
            .table_name(s.running.app.table())
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(connections_until(&s, &ada.id, 2).await.len(), 2);
    notifications::handle(s.running.app, security_notice(&ada.id)).await.unwrap();
    assert!(next_message(&mut by_header, Duration::from_secs(1)).await.is_some());
    assert_eq!(connections_until(&s, &ada.id, 1).await.len(), 1, "the gone one is removed");
    assert!(common::db::get::<Value>(s.running.app, format!("LIVE#{ghost}"), "LIVE")
        .await
        .unwrap()
        .is_none());

    // A suspended account cannot connect.
    let r = admin
        .patch(
            &format!("/admin/users/{}", ada.id),
            json!({"status": "suspended", "reason": "spam"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(refused(&ws_url(&s, &ada.token)).await, 403);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_lists_connections_and_erasure_closes_them() {
    let s = TestStack::start_with(false, false).await;
    let ada = s.seeker().await;
    let mut socket = connect(&s, &ada.token).await;
    let ids = connections_until(&s, &ada.id, 1).await;
    let export = ada.get("/me/export").await;
    let listed = export.body["live_connections"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], ids[0].as_str());
    assert!(listed[0]["connected_at"].is_string() && listed[0]["expires_at"].is_string());

    let r = ada.delete("/me").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert!(closed(&mut socket, Duration::from_secs(5)).await, "the server closed the socket");
    assert!(stored_connections(&s, &ada.id).await.is_empty());
    assert!(common::db::get::<Value>(s.running.app, format!("LIVE#{}", ids[0]), "LIVE")
        .await
        .unwrap()
        .is_none());
    s.shutdown().await;
}
