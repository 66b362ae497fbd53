//! The harness of every SQS consumer: parses the event envelope from each message (raw SNS
//! delivery), skips events this consumer already handled (dedupe by event id), and reports
//! partial batch failures so only failed messages come back.
//!
//! Decoding: the envelope becomes a typed [`DomainEvent`]. A type this code does not know
//! is logged and acknowledged (the queue's filter policy should never let one through; a
//! retry could not help). A known type in a newer version, or data that does not fit its
//! type, fails the message: it is retried and then lands in the DLQ, from where it can be
//! redriven once this consumer is deployed with the new version.
//!
//! Dedupe: before handling, the consumer claims `CONSUMED#<consumer>#<event id>` with a
//! conditional put and a lease; after success it marks the claim done; after failure it
//! releases it. A redelivered event that is done (or being handled) is acknowledged without
//! running again.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure as SqsBatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::app::App;
use crate::db::{self, n, s};
use crate::events::{Actor, DomainEvent, Envelope, Undecodable};

/// One event as a consumer's handler gets it: decoded, never seen before by this consumer.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub occurred_at: String,
    pub actor: Actor,
    pub event: DomainEvent,
}

const RETENTION_SECS: i64 = 7 * 24 * 3600;
const LEASE_SECS: i64 = 120;

/// Parses a message body: the envelope itself (raw delivery), or an SNS notification that
/// wraps it.
pub fn parse_body(body: &str) -> Result<Envelope, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let v = match (v.get("Type").and_then(|t| t.as_str()), v.get("Message").and_then(|m| m.as_str())) {
        (Some("Notification"), Some(inner)) => serde_json::from_str(inner).map_err(|e| format!("SNS message is not JSON: {e}"))?,
        _ => v,
    };
    serde_json::from_value(v).map_err(|e| format!("not an event envelope: {e}"))
}

enum Claim {
    Acquired,
    AlreadyHandled,
}

async fn claim(app: &App, consumer: &str, event_id: &str) -> Result<Claim, String> {
    let now = crate::time::now_secs();
    let res = app
        .dynamo()
        .put_item()
        .table_name(app.table())
        .item(db::PK, s(format!("CONSUMED#{consumer}#{event_id}")))
        .item(db::SK, s("CONSUMED"))
        .item("status", s("in_progress"))
        .item("lease_until", n(now + LEASE_SECS))
        .item(db::TTL, n(now + RETENTION_SECS))
        .condition_expression("attribute_not_exists(PK) OR (#st = :ip AND lease_until < :now)")
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":ip", s("in_progress"))
        .expression_attribute_values(":now", n(now))
        .send()
        .await;
    match res {
        Ok(_) => Ok(Claim::Acquired),
        Err(e) if db::is_condition_failed(&e) => Ok(Claim::AlreadyHandled),
        Err(e) => Err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()),
    }
}

async fn settle(app: &App, consumer: &str, event_id: &str, success: bool) -> Result<(), String> {
    let key = db::key(format!("CONSUMED#{consumer}#{event_id}"), "CONSUMED");
    let res = if success {
        app.dynamo()
            .update_item()
            .table_name(app.table())
            .set_key(Some(key))
            .update_expression("SET #st = :done")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":done", s("done"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
    } else {
        app.dynamo()
            .delete_item()
            .table_name(app.table())
            .set_key(Some(key))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
    };
    res
}

/// Runs `handler` for each new event of the batch and reports the failed messages.
pub async fn consume<F, Fut>(app: &App, consumer: &str, event: SqsEvent, handler: F) -> SqsBatchResponse
where
    F: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut response = SqsBatchResponse::default();
    crate::metrics::batch(consumer, event.records.len());
    for message in event.records {
        let id = message.message_id.clone();
        let outcome = handle_one(app, consumer, message.body.as_deref().unwrap_or_default(), &handler).await;
        if let Err(e) = outcome {
            tracing::error!(consumer, message_id = ?id, error = %e, "message failed");
            crate::metrics::failed(consumer, message.attributes.get("ApproximateReceiveCount").map(String::as_str));
            let mut f = SqsBatchItemFailure::default();
            f.item_identifier = id.unwrap_or_default();
            response.batch_item_failures.push(f);
        }
    }
    response
}

async fn handle_one<F, Fut>(app: &App, consumer: &str, body: &str, handler: &F) -> Result<(), String>
where
    F: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let envelope = parse_body(body)?;
    let event_id = envelope.id.clone();
    let kind = envelope.kind.clone();
    let event = match envelope.decode() {
        Ok(e) => e,
        Err(Undecodable::UnknownType(t)) => {
            tracing::warn!(consumer, event_id = %event_id, event_type = %t, "unknown event type acknowledged unhandled");
            return Ok(());
        }
        Err(Undecodable::NewerVersion { kind, version }) => {
            return Err(format!("{kind} version {version} is newer than this consumer understands"));
        }
        Err(Undecodable::Malformed(e)) => return Err(format!("{kind}: data does not fit the type: {e}")),
    };
    match claim(app, consumer, &event_id).await? {
        Claim::AlreadyHandled => {
            tracing::info!(consumer, event_id = %event_id, "duplicate delivery skipped");
            return Ok(());
        }
        Claim::Acquired => {}
    }
    let occurred_at = envelope.occurred_at.clone();
    let result = handler(Delivery {
        id: envelope.id,
        occurred_at: envelope.occurred_at,
        actor: envelope.actor,
        event,
    })
    .await;
    settle(app, consumer, &event_id, result.is_ok()).await?;
    if result.is_ok() {
        crate::metrics::lag(consumer, &occurred_at);
        tracing::info!(consumer, event_id = %event_id, event_type = %kind, "event handled");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_and_wrapped_bodies() {
        let e = Envelope::raw("user.registered", 1, crate::events::Actor::System, serde_json::json!({}));
        let raw = serde_json::to_string(&e).unwrap();
        assert_eq!(parse_body(&raw).unwrap(), e);
        let wrapped = serde_json::json!({"Type": "Notification", "Message": raw}).to_string();
        assert_eq!(parse_body(&wrapped).unwrap(), e);
        assert!(parse_body("nope").is_err());
        assert!(parse_body("{\"id\": 1}").is_err());
    }
}
