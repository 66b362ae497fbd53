//! Helpers of the notifications tests: an event to notify with, what a user's inbox holds,
//! what the push stand-in recorded.

use std::time::Duration;

use common::consumer::Delivery;
use common::events::{Actor, DomainEvent, UserNotice};
use serde_json::Value;

use crate::User;

/// A fresh account-security event for `user_id` (a password change), as the consumer gets it.
pub fn security_notice(user_id: &str) -> Delivery {
    Delivery {
        id: ulid::Ulid::new().to_string(),
        occurred_at: common::time::now_rfc3339(),
        actor: Actor::user(user_id),
        event: DomainEvent::PasswordChanged(UserNotice {
            user_id: user_id.into(),
            email: "x@example.com".into(),
        }),
    }
}

/// The kinds of `u`'s notifications, newest first, once there are at least `want` (waits
/// up to `within`).
pub async fn notification_kinds(u: &User<'_>, want: usize, within: Duration) -> Vec<String> {
    let r = u
        .stack
        .get_until("/me/notifications?limit=50", Some(&u.token), within, |r| {
            r.body["items"].as_array().is_some_and(|a| a.len() >= want)
        })
        .await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The push stand-in's platform endpoints (`/moto-api/data.json` records what was pushed).
pub async fn platform_endpoints() -> Vec<Value> {
    crate::stand_in_models("sns", "PlatformEndpoint").await
}

/// The pushes recorded for `token`'s endpoints (their JSON messages).
pub async fn pushes_to(token: &str) -> Vec<Value> {
    platform_endpoints()
        .await
        .into_iter()
        .filter(|e| e["token"] == token)
        .flat_map(|e| e["messages"].as_object().cloned().unwrap_or_default().into_values())
        .map(|m| serde_json::from_str(m.as_str().unwrap_or("null")).unwrap_or(m))
        .collect()
}
