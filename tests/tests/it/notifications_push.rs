//! Push devices: registration as SNS platform endpoints in the stand-in (idempotent, moving
//! between accounts, at most 10), pushes of new notifications, disabled endpoints, removal.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn endpoint_of(token: &str) -> Option<Value> {
    platform_endpoints().await.into_iter().find(|e| e["token"] == token)
}

/// Whether the platform application still has an endpoint for `token` (data.json keeps
/// every endpoint ever made; the API lists the live ones).
async fn live_endpoint(s: &TestStack, token: &str) -> bool {
    let sns = aws_sdk_sns::Client::new(s.sdk());
    let settings = &s.running.app.settings;
    for app in [&settings.push_apns_app, &settings.push_fcm_app].into_iter().flatten() {
        let out = sns
            .list_endpoints_by_platform_application()
            .platform_application_arn(app)
            .send()
            .await
            .unwrap();
        if out
            .endpoints()
            .iter()
            .any(|e| e.attributes().and_then(|a| a.get("Token")).is_some_and(|t| t == token))
        {
            return true;
        }
    }
    false
}

async fn register(u: &User<'_>, platform: &str, token: &str) -> Reply {
    u.post("/me/devices", json!({"platform": platform, "token": token})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_register_once_move_between_accounts_and_receive_pushes() {
    let s = TestStack::start_with(false, false).await;
    let (ada, bob) = (s.seeker().await, s.seeker().await);
    let token = format!("tok-{}", unique(""));
    let r = register(&ada, "ios", &token).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["platform"], "ios");
    assert!(r.body["created_at"].is_string() && r.body.get("token").is_none());
    let id = r.body["id"].as_str().unwrap().to_string();
    let again = register(&ada, "ios", &token).await;
    assert_eq!(
        (again.status, again.body["id"].as_str()),
        (StatusCode::CREATED, Some(id.as_str())),
        "idempotent"
    );

    // A new notification is pushed to the device once, redelivered or not.
    let notice = security_notice(&ada.id);
    for _ in 0..2 {
        notifications::handle(s.running.app, notice.clone()).await.unwrap();
    }
    let pushed = endpoint_of(&token).await.expect("an endpoint")["messages"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(pushed, 1);

    // Disabled by the platform: marked and skipped, the in-app copy still stored.
    let arn = endpoint_of(&token).await.unwrap()["arn"].as_str().unwrap().to_string();
    let sns = aws_sdk_sns::Client::new(s.sdk());
    sns.set_endpoint_attributes()
        .endpoint_arn(&arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .unwrap();
    notifications::handle(s.running.app, security_notice(&ada.id)).await.unwrap();
    assert_eq!(ada.get("/me/notifications").await.body["items"].as_array().unwrap().len(), 2);
    // Registering again re-enables it.
    assert_eq!(register(&ada, "ios", &token).await.status, StatusCode::CREATED);
    assert_eq!(endpoint_of(&token).await.unwrap()["enabled"], true);

    // The token moves to Bob: Ada's device is gone.
    let moved = register(&bob, "ios", &token).await;
    assert_eq!(moved.status, StatusCode::CREATED);
    assert_ne!(moved.body["id"], id.as_str());
    assert_eq!(ada.get("/me/export").await.body["devices"], json!([]));
    assert_eq!(ada.delete(&format!("/me/devices/{id}")).await.status, StatusCode::NOT_FOUND);
    let bobs = bob.get("/me/export").await.body["devices"].clone();
    assert_eq!(
        bobs[0]["token"].as_str().unwrap(),
        format!("…{}", &token[token.len() - 4..]),
        "masked"
    );

    // Removing deletes the endpoint.
    let bob_device = moved.body["id"].as_str().unwrap();
    assert!(live_endpoint(&s, &token).await);
    let r = bob.delete(&format!("/me/devices/{bob_device}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(!live_endpoint(&s, &token).await);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_ten_devices_and_bad_input_is_refused() {
    let s = TestStack::start_with(false, false).await;
    let u = s.employer().await;
    for i in 0..10 {
        let platform = ["ios", "android", "web"][i % 3];
        assert_eq!(
            register(&u, platform, &format!("t{i}-{}", unique(""))).await.status,
            StatusCode::CREATED
        );
    }
    let r = register(&u, "web", &unique("t")).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_devices"))
    );
    for bad in [
        json!({"platform": "nokia", "token": "x"}),
        json!({"platform": "ios", "token": ""}),
        json!({"platform": "ios", "token": "a b"}),
        json!({"platform": "ios"}),
    ] {
        let r = u.post("/me/devices", bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
        assert_error_body(&r);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_deletes_the_endpoints() {
    let s = TestStack::start_with(false, false).await;
    let u = s.seeker().await;
    let token = unique("erase-tok");
    assert_eq!(register(&u, "android", &token).await.status, StatusCode::CREATED);
    assert!(live_endpoint(&s, &token).await);
    assert_eq!(u.delete("/me").await.status, StatusCode::NO_CONTENT);
    assert!(!live_endpoint(&s, &token).await);
    // The token is free again for whoever has the phone now.
    let other = s.seeker().await;
    assert_eq!(register(&other, "android", &token).await.status, StatusCode::CREATED);
    s.shutdown().await;
}
