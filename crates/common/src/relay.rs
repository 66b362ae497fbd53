//! The stream relay: DynamoDB stream records of new outbox items -> one SNS publish each,
//! with the event `type` as a message attribute for subscription filter policies.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_sns::types::MessageAttributeValue;

use crate::app::App;
use crate::events::{Envelope, OUTBOX_ENTITY};

/// Publishes every outbox insert of the batch, in order. On the first failure it reports
/// that record (and so everything after it) as failed, so the stream retries from there.
pub async fn relay(app: &App, event: StreamEvent) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let image = record.change.new_image;
        let is_outbox = matches!(image.get("entity"), Some(serde_dynamo::AttributeValue::S(e)) if e == OUTBOX_ENTITY);
        if !is_outbox {
            continue;
        }
        let seq = record.change.sequence_number.clone();
        let envelope: Envelope = match serde_dynamo::from_item(image) {
            Ok(e) => e,
            Err(e) => {
                // A malformed outbox item can never be published; retrying would block the shard.
                tracing::error!(error = %e, sequence = ?seq, "skipping malformed outbox item");
                continue;
            }
        };
        if let Err(e) = publish(app, &envelope).await {
            tracing::error!(error = %e, event_id = %envelope.id, "publishing event failed");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = seq;
            response.batch_item_failures.push(failure);
            break;
        }
        tracing::info!(event_id = %envelope.id, event_type = %envelope.kind, "event published");
        // Published: the outbox item has done its job. Deleting it now keeps event payloads
        // (which may name people) out of the table; TTL is only the fallback.
        if let Err(e) = app
            .dynamo()
            .delete_item()
            .table_name(app.table())
            .set_key(Some(crate::db::key(format!("EVENT#{}", envelope.id), "EVENT")))
            .send()
            .await
        {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), event_id = %envelope.id, "deleting the published outbox item failed; TTL removes it");
        }
    }
    response
}

pub async fn publish(app: &App, envelope: &Envelope) -> Result<(), String> {
    let message = serde_json::to_string(envelope).map_err(|e| e.to_string())?;
    let attr = MessageAttributeValue::builder()
        .data_type("String")
        .string_value(&envelope.kind)
        .build()
        .map_err(|e| e.to_string())?;
    app.sns()
        .publish()
        .topic_arn(&app.settings.events_topic_arn)
        .message(message)
        .message_attributes("type", attr)
        .send()
        .await
        .map_err(|e| aws_sdk_sns::error::DisplayErrorContext(e).to_string())?;
    Ok(())
}
