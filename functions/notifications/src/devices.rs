//! Push devices: POST /me/devices registers a token as an SNS platform endpoint (APNs for
//! ios, FCM for android and web), DELETE /me/devices/{id} removes it; the consumer pushes
//! new notifications to a user's enabled endpoints.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | device (token, endpoint) | `USER#<user>` | `DEVICE#<id>` |
//! | device counter (10 per user) | `USER#<user>` | `DEVICES` |
//! | token claim (who has it) | `PUSHTOKEN#<sha-256 of platform and token>` | `TOKEN` |
//!
//! The same token registered again is the same device (its endpoint re-enabled: the SNS
//! endpoint-management practice); a token registered by another account moves there and
//! stops reaching the first one. A disabled endpoint (`EndpointDisabled`) is marked and
//! skipped, never failing the other channels.

use aws_sdk_sns::error::ProvideErrorMetadata;
use common::api_doc::ErrorBody;
use common::db::{self, s, Keyed};
use common::http::{authenticate, created, id_param, parse_json, status_only, Request, Response};
use common::tx::{Cond, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::inbox::Notification;

/// A push token (APNs or FCM), at most (characters).
pub const TOKEN_MAX: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Ios,
    Android,
    Web,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    pub platform: Platform,
    /// The push token the platform gave the app.
    pub token: String,
}

/// A device as its owner sees it (the token stays with us).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Device {
    pub id: String,
    pub platform: Platform,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct DeviceRecord {
    #[serde(flatten)]
    device: Device,
    user_id: String,
    token: String,
    endpoint_arn: String,
    enabled: bool,
}

type DeviceItem = Keyed<DeviceRecord>;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TokenClaim {
    user_id: String,
    device_id: String,
}

fn device_key(user_id: &str, id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), format!("DEVICE#{id}"))
}
fn counter_key(user_id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), "DEVICES")
}
fn claim_pk(platform: Platform, token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{platform:?}:{token}").as_bytes());
    format!("PUSHTOKEN#{}", common::crypto::hex(digest.as_ref()))
}

fn app_arn(app: &App, platform: Platform) -> ApiResult<&str> {
    let arn = match platform {
        Platform::Ios => app.settings.push_apns_app.as_deref(),
        Platform::Android | Platform::Web => app.settings.push_fcm_app.as_deref(),
    };
    arn.ok_or_else(|| ApiError::internal("the push platform application is not configured"))
}

/// The token's endpoint, enabled: created, or found and re-enabled when SNS already has one
/// for the token (its attributes differ when it was disabled).
async fn endpoint_for(app: &App, platform: Platform, token: &str) -> ApiResult<String> {
    let created = app
        .sns()
        .create_platform_endpoint()
        .platform_application_arn(app_arn(app, platform)?)
        .token(token)
        .attributes("Enabled", "true")
        .send()
        .await;
    let arn = match created {
        Ok(out) => return Ok(out.endpoint_arn.unwrap_or_default()),
        Err(e) => {
            let message = e.message().unwrap_or_default().to_string();
            let found = message.split_whitespace().find(|w| w.starts_with("arn:")).map(str::to_string);
            found.ok_or_else(|| ApiError::internal(format!("creating a push endpoint: {}", aws_sdk_sns::error::DisplayErrorContext(e))))?
        }
    };
    app.sns()
        .set_endpoint_attributes()
        .endpoint_arn(&arn)
        .attributes("Enabled", "true")
        .attributes("Token", token)
        .send()
        .await
        .map_err(|e| {
            ApiError::internal(format!(
                "re-enabling a push endpoint: {}",
                aws_sdk_sns::error::DisplayErrorContext(e)
            ))
        })?;
    Ok(arn)
}

/// POST /me/devices
#[utoipa::path(post, path = "/me/devices", tag = "notifications", security(("bearer" = [])), request_body = RegisterDevice, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "registered (the same token again: the same device)", body = Device),
        (status = 401, body = ErrorBody), (status = 409, description = "`too_many_devices` (10 per user)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn register(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let scope = me.user_id.clone();
    common::idempotency::once(app, &req, &scope, register_now(app, me, &req)).await
}

async fn register_now(app: &'static App, me: common::token::Principal, req: &Request) -> ApiResult<Response> {
    let body: RegisterDevice = parse_json(req)?;
    let token = body.token.trim().to_string();
    if token.is_empty() || token.chars().count() > TOKEN_MAX || token.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid_field("token", "a push token: 1 to 4096 characters, no spaces"));
    }
    let claim_key = db::key(claim_pk(body.platform, &token), "TOKEN");
    let claim = db::get::<TokenClaim>(app, claim_pk(body.platform, &token), "TOKEN").await?;
    if let Some(c) = claim.as_ref().filter(|c| c.user_id == me.user_id) {
        if let Some(mut d) = db::get::<DeviceItem>(app, auth::account::partition(&me.user_id), format!("DEVICE#{}", c.device_id)).await? {
            d.value.endpoint_arn = endpoint_for(app, body.platform, &token).await?;
            d.value.enabled = true;
            auth::account::writes_by(app, &me).put("device", &d).commit().await?;
            return created(&d.value.device);
        }
    }
    let endpoint_arn = endpoint_for(app, body.platform, &token).await?;
    let device = Device {
        id: ulid::Ulid::new().to_string(),
        platform: body.platform,
        created_at: common::time::now_rfc3339(),
    };
    let record = DeviceRecord {
        device: device.clone(),
        user_id: me.user_id.clone(),
        token,
        endpoint_arn,
        enabled: true,
    };
    let mut claim_item = db::to_item(&TokenClaim {
        user_id: me.user_id.clone(),
        device_id: device.id.clone(),
    })?;
    claim_item.extend(claim_key);
    let below_limit = Cond::below("count", app.settings.quotas.devices);
    let mut tx = auth::account::writes_by(app, &me)
        .update("limit", counter_key(&me.user_id), Cond::add("count", 1), Some(below_limit))
        .put_new(
            "device",
            &Keyed::new(
                auth::account::partition(&me.user_id),
                format!("DEVICE#{}", device.id),
                "device",
                record,
            ),
        )
        .put_item("claim", claim_item, None);
    // The token leaves the account that had it.
    if let Some(c) = claim.filter(|c| c.user_id != me.user_id) {
        tx = tx.delete("previous", device_key(&c.user_id, &c.device_id), None).update(
            "previous_count",
            counter_key(&c.user_id),
            Cond::add("count", -1),
            None,
        );
    }
    match tx.commit().await {
        Err(TxError::Condition { part: "limit", .. }) => {
            let limit = app.settings.quotas.devices;
            let mut e = common::quota::exceeded("devices", limit, format!("at most {limit} devices; remove one first"));
            e.code = "too_many_devices";
            Err(e)
        }
        other => {
            other?;
            created(&device)
        }
    }
}

/// DELETE /me/devices/{id}
#[utoipa::path(delete, path = "/me/devices/{id}", tag = "notifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "unregistered; its endpoint deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unregister(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let id = id_param(&req, "id", "device")?;
    let missing = || ApiError::not_found("no such device");
    let d = db::get::<DeviceItem>(app, auth::account::partition(&me.user_id), format!("DEVICE#{id}"))
        .await?
        .ok_or_else(missing)?
        .value;
    let mine = Cond::new("user_id = :me").value(":me", s(&me.user_id));
    let tx = auth::account::writes_by(app, &me)
        .delete("device", device_key(&me.user_id, &id), Some(Cond::present()))
        .update("count", counter_key(&me.user_id), Cond::add("count", -1), None)
        .delete("claim", db::key(claim_pk(d.device.platform, &d.token), "TOKEN"), Some(mine));
    match tx.commit().await {
        Err(TxError::Condition { part: "device", .. }) => return Err(missing()),
        // The token moved meanwhile: its claim is the new owner's.
        Err(TxError::Condition { part: "claim", .. }) => {
            auth::account::writes_by(app, &me)
                .delete("device", device_key(&me.user_id, &id), None)
                .update("count", counter_key(&me.user_id), Cond::add("count", -1), None)
                .commit()
                .await?;
            return status_only(http::StatusCode::NO_CONTENT);
        }
        other => other?,
    }
    if let Err(e) = app.sns().delete_endpoint().endpoint_arn(&d.endpoint_arn).send().await {
        tracing::warn!(error = %aws_sdk_sns::error::DisplayErrorContext(e), "deleting a push endpoint failed");
    }
    status_only(http::StatusCode::NO_CONTENT)
}

/// Pushes `n` to the user's enabled devices; an endpoint SNS reports disabled is marked and
/// skipped from then on. Never fails: push must not hold up the other channels.
pub async fn push(app: &App, user_id: &str, n: &Notification) {
    let devices = match db::query_all(app, None, auth::account::partition(user_id), Some("DEVICE#")).await {
        Ok(items) => items
            .into_iter()
            .filter_map(|i| db::from_item::<DeviceItem>(i).ok())
            .collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(error = %e.message, "reading push devices failed");
            return;
        }
    };
    let apns = serde_json::json!({"aps": {"alert": {"title": n.title, "body": n.body}}, "data": n.data}).to_string();
    let fcm = serde_json::json!({"notification": {"title": n.title, "body": n.body}, "data": {"id": n.id, "kind": n.kind}}).to_string();
    let message = serde_json::json!({"default": n.title, "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm}).to_string();
    for mut d in devices.into_iter().filter(|d| d.value.enabled) {
        let sent = app
            .sns()
            .publish()
            .target_arn(&d.value.endpoint_arn)
            .message_structure("json")
            .message(&message)
            .send()
            .await;
        match sent {
            Ok(_) => {}
            Err(e) if e.code() == Some("EndpointDisabled") => {
                d.value.enabled = false;
                let key = device_key(user_id, &d.value.device.id);
                let marked = app
                    .dynamo()
                    .update_item()
                    .table_name(app.table())
                    .set_key(Some(key))
                    .update_expression("SET enabled = :f")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":f", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
                    .send()
                    .await;
                if let Err(e) = marked {
                    tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), "marking a disabled endpoint failed");
                }
            }
            Err(e) => tracing::warn!(error = %aws_sdk_sns::error::DisplayErrorContext(e), "a push failed"),
        }
    }
}

/// A push device in its owner's data export.
#[derive(Serialize, ToSchema)]
pub struct ExportedDevice {
    pub id: String,
    pub platform: Platform,
    pub created_at: String,
    /// False once the push service refused the token.
    pub enabled: bool,
    /// Masked: `…` and the token's last 4 characters.
    pub token: String,
}

/// The user's devices (export; tokens masked to their last 4 characters).
pub async fn export(app: &App, user_id: &str) -> ApiResult<Vec<ExportedDevice>> {
    Ok(db::query_all(app, None, auth::account::partition(user_id), Some("DEVICE#"))
        .await?
        .into_iter()
        .filter_map(|i| db::from_item::<DeviceItem>(i).ok())
        .map(|d| {
            let t = &d.value.token;
            let tail: String = t.chars().skip(t.chars().count().saturating_sub(4)).collect();
            ExportedDevice {
                token: format!("…{tail}"),
                id: d.value.device.id,
                platform: d.value.device.platform,
                created_at: d.value.device.created_at,
                enabled: d.value.enabled,
            }
        })
        .collect())
}

/// Erasure: deletes the user's push endpoints and releases their tokens; returns the token
/// claims' keys for the caller to delete with the rest (the devices go with the partition).
pub async fn erase(app: &App, user_id: &str) -> ApiResult<Vec<db::Item>> {
    let mut claims = Vec::new();
    for item in db::query_all(app, None, auth::account::partition(user_id), Some("DEVICE#")).await? {
        let d = db::from_item::<DeviceItem>(item)?.value;
        if let Err(e) = app.sns().delete_endpoint().endpoint_arn(&d.endpoint_arn).send().await {
            return Err(ApiError::internal(format!(
                "deleting a push endpoint: {}",
                aws_sdk_sns::error::DisplayErrorContext(e)
            )));
        }
        let claim = db::get::<TokenClaim>(app, claim_pk(d.device.platform, &d.token), "TOKEN").await?;
        if claim.is_some_and(|c| c.user_id == user_id) {
            claims.push(db::key(claim_pk(d.device.platform, &d.token), "TOKEN"));
        }
    }
    Ok(claims)
}
