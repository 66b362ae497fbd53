//! `Idempotency-Key` for creating routes: a retry with the same key by the same caller gets
//! the first response back and creates nothing new, also when the two requests race.
//!
//! The first request claims the key with a conditional put (status `in_progress`, a lease),
//! runs, and stores its successful response. A concurrent request with the same key waits
//! for that response; one that finds a stale lease (the first died) takes over. Failed
//! requests release the key so they can be retried. Records expire after 24 hours.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{HeaderValue, StatusCode};
use lambda_http::Body;

use crate::app::App;
use crate::db::{self, get_n, get_s, n, s, Item};
use crate::error::{ApiError, ApiResult};
use crate::http::{body_bytes, header_str, Request, Response};

pub const HEADER: &str = "idempotency-key";
const RETENTION_SECS: i64 = 24 * 3600;
const LEASE_SECS: i64 = 30;
const WAIT_STEP: Duration = Duration::from_millis(100);
const MAX_WAIT_STEPS: u32 = 50;

/// Validates the header: 1-255 visible ASCII characters.
pub fn parse_key(raw: Option<&str>) -> ApiResult<Option<String>> {
    match raw {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k.to_string())),
        Some(_) => {
            Err(ApiError::bad_request("Idempotency-Key must be 1-255 visible ASCII characters").with_code("invalid_idempotency_key"))
        }
    }
}

fn fingerprint(req: &Request) -> String {
    let mut msg = Vec::with_capacity(64 + body_bytes(req).len());
    msg.extend_from_slice(req.method().as_str().as_bytes());
    msg.push(b' ');
    msg.extend_from_slice(req.uri().path().as_bytes());
    msg.push(b'\n');
    msg.extend_from_slice(body_bytes(req));
    crate::crypto::hex(&crate::crypto::hmac_sha256(b"idempotency", &msg))
}

/// 422: the key came with another request before.
fn reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was used for a different request",
    )
}

fn record_key(req: &Request, scope: &str, key: &str) -> String {
    format!("IDEMP#{scope}#{} {}#{key}", req.method(), req.uri().path())
}

/// The stored response of an earlier, completed request with the same `Idempotency-Key`,
/// looked up before anything that depends on the current state (a retry of a successful
/// apply replays its 201 even after the job closed). One consistent read, only when the
/// header is sent; the claim in [`run`] still settles races.
pub async fn replay_if_done(app: &App, req: &Request, scope: &str) -> ApiResult<Option<Response>> {
    let Some(key) = parse_key(header_str(req, HEADER))? else {
        return Ok(None);
    };
    let pk = record_key(req, scope, &key);
    let found = app
        .dynamo()
        .get_item()
        .table_name(app.table())
        .set_key(Some(db::key(&pk, "IDEMP")))
        .consistent_read(true)
        .send()
        .await?
        .item;
    let Some(item) = found else { return Ok(None) };
    if get_n(&item, "expires_at").is_some_and(|e| e < crate::time::now_secs()) {
        return Ok(None);
    }
    if get_s(&item, "fingerprint") != Some(fingerprint(req).as_str()) {
        return Err(reused());
    }
    if get_s(&item, "status") == Some("done") {
        return replay(app, &pk, &item).map(Some);
    }
    Ok(None)
}

/// A creating route's work, at most once per (`scope`, route, key): a retry of a completed
/// request gets the first reply before anything that depends on the current state is looked
/// at (an interview scheduled with a key replays its 201 after the application moved on),
/// and racing requests are settled by [`run`]'s claim. `work` is not polled before that.
pub async fn once(app: &App, req: &Request, scope: &str, work: impl Future<Output = ApiResult<Response>>) -> ApiResult<Response> {
    if let Some(done) = replay_if_done(app, req, scope).await? {
        return Ok(done);
    }
    run(app, req, scope, work).await
}

/// Runs `work` at most once per (`scope`, route, key). `scope` is the caller's user id, or
/// `anonymous` for public creating routes.
pub async fn run(app: &App, req: &Request, scope: &str, work: impl Future<Output = ApiResult<Response>>) -> ApiResult<Response> {
    let Some(key) = parse_key(header_str(req, HEADER))? else {
        return work.await;
    };
    let pk = record_key(req, scope, &key);
    if let Some(first) = claim(app, &pk, &fingerprint(req)).await? {
        return Ok(first);
    }
    let result = work.await;
    match &result {
        Ok(resp) if resp.status().is_success() => finish(app, &pk, scope, resp).await?,
        // Nothing was created: release the key so a retry runs again.
        _ => {
            app.dynamo()
                .delete_item()
                .table_name(app.table())
                .set_key(Some(db::key(&pk, "IDEMP")))
                .send()
                .await?;
        }
    }
    result
}

/// Claims the key for this request (`None`: go ahead), or answers with the first reply
/// once its request is done; waits while another request with the key is in progress.
async fn claim(app: &App, pk: &str, fp: &str) -> ApiResult<Option<Response>> {
    let mut steps = 0;
    loop {
        let now = crate::time::now_secs();
        let claim = app
            .dynamo()
            .put_item()
            .table_name(app.table())
            .item(db::PK, s(pk))
            .item(db::SK, s("IDEMP"))
            .item("status", s("in_progress"))
            .item("fingerprint", s(fp))
            .item("lease_until", n(now + LEASE_SECS))
            .item("expires_at", n(now + RETENTION_SECS))
            .item(db::TTL, n(now + RETENTION_SECS))
            .condition_expression("attribute_not_exists(PK) OR expires_at < :now OR (#st = :ip AND lease_until < :now)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":ip", s("in_progress"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing: Item = match claim {
            Ok(_) => return Ok(None),
            Err(e) if db::is_condition_failed(&e) => match e.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                    c.item().cloned().unwrap_or_default()
                }
                other => return Err(ApiError::internal(other)),
            },
            Err(e) => return Err(e.into()),
        };
        if get_s(&existing, "fingerprint") != Some(fp) {
            return Err(reused());
        }
        if get_s(&existing, "status") == Some("done") {
            return replay(app, pk, &existing).map(Some);
        }
        steps += 1;
        if steps > MAX_WAIT_STEPS {
            return Err(ApiError::conflict(
                "request_in_progress",
                "a request with this Idempotency-Key is still in progress; retry later",
            ));
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
}

/// Stores the first reply for retries. Responses can hold personal data and tokens: stored
/// sealed, and indexed by the user they belong to so erasing an account finds them.
async fn finish(app: &App, pk: &str, scope: &str, resp: &Response) -> ApiResult<()> {
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    let now = crate::time::now_secs();
    let sealed = URL_SAFE_NO_PAD.encode(crate::crypto::seal(&response_key(app)?, pk.as_bytes(), body.as_bytes()));
    let u = app
        .dynamo()
        .update_item()
        .table_name(app.table())
        .set_key(Some(db::key(pk, "IDEMP")))
        .expression_attribute_names("#st", "status")
        .expression_attribute_names("#ttl", db::TTL)
        .expression_attribute_values(":done", s("done"))
        .expression_attribute_values(":rs", n(resp.status().as_u16()))
        .expression_attribute_values(":rb", AttributeValue::S(sealed))
        .expression_attribute_values(":exp", n(now + RETENTION_SECS));
    let u = match owner_of(scope, &body) {
        Some(o) => u
            .update_expression(
                "SET #st = :done, response_status = :rs, response_sealed = :rb, expires_at = :exp, #ttl = :exp, GSI2PK = :o, GSI2SK = :pk",
            )
            .expression_attribute_values(":o", s(owner_index(&o)))
            .expression_attribute_values(":pk", s(pk)),
        None => u.update_expression("SET #st = :done, response_status = :rs, response_sealed = :rb, expires_at = :exp, #ttl = :exp"),
    };
    u.send().await?;
    Ok(())
}

fn response_key(app: &App) -> crate::ApiResult<[u8; 32]> {
    Ok(app.tokens()?.derive_key("idempotency-response"))
}

/// The index partition of the idempotency records of one user (account erasure).
pub fn owner_index(user_id: &str) -> String {
    format!("IDEMPBY#{user_id}")
}

/// Whose data a stored response is: the caller, or for an anonymous route that creates an
/// account (registration) the new user.
fn owner_of(scope: &str, body: &str) -> Option<String> {
    if scope != "anonymous" {
        return Some(scope.to_string());
    }
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("user")?.get("id")?.as_str().map(str::to_string)
}

fn replay(app: &App, pk: &str, item: &Item) -> ApiResult<Response> {
    let key = response_key(app)?;
    let status = get_n(item, "response_status")
        .and_then(|c| StatusCode::from_u16(c as u16).ok())
        .unwrap_or(StatusCode::OK);
    let body = get_s(item, "response_sealed")
        .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
        .and_then(|sealed| crate::crypto::open(&key, pk.as_bytes(), &sealed))
        .and_then(|plain| String::from_utf8(plain).ok())
        .unwrap_or_default();
    let mut resp = http::Response::new(if body.is_empty() { Body::Empty } else { Body::Text(body) });
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners() {
        assert_eq!(owner_of("01USER", "{}").as_deref(), Some("01USER"));
        assert_eq!(owner_of("anonymous", r#"{"user": {"id": "01NEW"}}"#).as_deref(), Some("01NEW"));
        assert_eq!(owner_of("anonymous", "not json"), None);
    }

    #[test]
    fn key_rules() {
        assert_eq!(parse_key(None).unwrap(), None);
        assert_eq!(parse_key(Some("abc-123")).unwrap().as_deref(), Some("abc-123"));
        assert!(parse_key(Some("")).is_err());
        assert!(parse_key(Some("has space")).is_err());
        assert!(parse_key(Some(&"k".repeat(256))).is_err());
    }
}
