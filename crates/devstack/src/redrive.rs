//! `make redrive`: moves the messages of a dead-letter queue back to the queue they came
//! from, once the cause is fixed. Works against the stand-in and AWS alike (receive, send,
//! delete: a message is deleted from the DLQ only after it was sent on). Consumers dedupe by
//! event id, so a message moved twice is still applied once.

use aws_config::SdkConfig;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

use crate::template::Template;

fn sqs_err(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> String {
    format!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(e))
}

/// Moves every message of `dlq_url` to `queue_url`; returns how many moved.
pub async fn redrive(sdk: &SdkConfig, dlq_url: &str, queue_url: &str) -> Result<usize, String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut moved = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sqs_err("receive_message", e))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        let mut send = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            send.push(
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body().unwrap_or_default())
                    .set_message_attributes(m.message_attributes.clone())
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        let sent = sqs
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(send))
            .send()
            .await
            .map_err(|e| sqs_err("send_message_batch", e))?;
        if let Some(f) = sent.failed.first() {
            return Err(format!("sending back failed: {} {}", f.code, f.message.clone().unwrap_or_default()));
        }
        let delete: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        sqs.delete_message_batch()
            .queue_url(dlq_url)
            .set_entries(Some(delete))
            .send()
            .await
            .map_err(|e| sqs_err("delete_message_batch", e))?;
        moved += messages.len();
    }
}

/// The dead-letter queue of `queue` (a logical id) in the template, from its RedrivePolicy.
pub fn dlq_of(t: &Template, queue: &str) -> Result<String, String> {
    let q = t
        .resources
        .get(queue)
        .filter(|r| r.kind == "AWS::SQS::Queue")
        .ok_or(format!("{queue} is no queue of the template"))?;
    let target = q
        .properties
        .get("RedrivePolicy")
        .and_then(|r| r.get("deadLetterTargetArn"))
        .ok_or(format!("{queue} has no dead-letter queue"))?;
    let text = serde_yaml::to_string(target).map_err(|e| e.to_string())?;
    text.trim()
        .strip_prefix("!GetAtt ")
        .and_then(|t| t.strip_suffix(".Arn"))
        .map(str::to_string)
        .ok_or(format!("{queue}: deadLetterTargetArn is not a GetAtt of a queue"))
}

/// The URL of a local stack's queue (named `<prefix>-<logical id>`).
pub async fn local_url(sdk: &SdkConfig, prefix: &str, logical_id: &str) -> Result<String, String> {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_url()
        .queue_name(format!("{prefix}-{logical_id}"))
        .send()
        .await
        .map_err(|e| sqs_err(&format!("get_queue_url {prefix}-{logical_id}"), e))?
        .queue_url
        .ok_or(format!("{prefix}-{logical_id} has no URL"))
}
