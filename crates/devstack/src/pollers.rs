//! What Lambda's event source mappings do in AWS, done locally: read the table's stream and
//! hand batches to the relay; receive from each consumer queue and hand batches to the
//! consumer, deleting what succeeded (partial batch failures stay for redelivery, and the
//! queue's redrive policy moves repeated failures to its DLQ).

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use tokio::sync::watch;

use common::runtime::{EventHandler, S3Handler, ScheduledHandler};
use common::App;

const IDLE: Duration = Duration::from_millis(150);

/// Relays the table's stream to `relay` until `stop` turns true.
///
/// Every poll takes a fresh iterator after the last relayed record instead of following
/// `NextShardIterator`: moto 5.2.5 rolls a cancelled transaction back by swapping in a copy
/// of the table, and an iterator chain opened before that keeps reading the discarded copy
/// (phantom records of the cancelled writes, then nothing). See docs/decisions.md.
pub async fn stream_poller(sdk: SdkConfig, stream_arn: String, app: &'static App, batch_size: i32, mut stop: watch::Receiver<bool>) {
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    // shard id -> sequence number of the last record relayed (None: from the start)
    let mut positions: HashMap<String, Option<String>> = HashMap::new();
    loop {
        if *stop.borrow() {
            return;
        }
        if let Ok(desc) = streams.describe_stream().stream_arn(&stream_arn).send().await {
            for shard in desc.stream_description.map(|d| d.shards.unwrap_or_default()).unwrap_or_default() {
                if let Some(id) = shard.shard_id {
                    positions.entry(id).or_insert(None);
                }
            }
        }
        let mut got_any = false;
        let ids: Vec<String> = positions.keys().cloned().collect();
        for id in ids {
            let after = positions.get(&id).cloned().flatten();
            let mut req = streams.get_shard_iterator().stream_arn(&stream_arn).shard_id(&id);
            req = match &after {
                Some(seq) => req.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
                None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let Some(it) = req.send().await.ok().and_then(|o| o.shard_iterator) else {
                continue;
            };
            let out = match streams
                .get_records()
                .shard_iterator(&it)
                .limit(batch_size.clamp(1, 1000))
                .send()
                .await
            {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(e), "get_records failed");
                    continue;
                }
            };
            let records = out.records.unwrap_or_default();
            if records.is_empty() {
                continue;
            }
            got_any = true;
            let seqs: Vec<Option<String>> = records
                .iter()
                .map(|r| r.dynamodb.as_ref().and_then(|d| d.sequence_number.clone()))
                .collect();
            let event = stream_event(&stream_arn, &records);
            let parsed: aws_lambda_events::event::dynamodb::Event = match serde_json::from_value(event) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "building the stream event failed");
                    continue;
                }
            };
            let resp = common::relay::relay(app, parsed).await;
            let done_upto = match resp.batch_item_failures.first().and_then(|f| f.item_identifier.clone()) {
                // Retry from the failed record, as Lambda does: everything before it is done.
                Some(failed) => {
                    let i = seqs.iter().position(|s| s.as_deref() == Some(failed.as_str())).unwrap_or(0);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if i == 0 {
                        after
                    } else {
                        seqs[i - 1].clone()
                    }
                }
                None => seqs.last().cloned().flatten().or(after),
            };
            positions.insert(id, done_upto);
        }
        if !got_any {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// One record in the shape Lambda delivers DynamoDB stream records.
fn stream_event(stream_arn: &str, records: &[aws_sdk_dynamodbstreams::types::Record]) -> serde_json::Value {
    let recs: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let d = r.dynamodb.as_ref();
            let image = |m: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
                m.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or_default()).unwrap_or(serde_json::json!({}))
            };
            serde_json::json!({
                "eventID": r.event_id.clone().unwrap_or_default(),
                "eventName": r.event_name.as_ref().map(|n| n.as_str().to_string()).unwrap_or_default(),
                "eventVersion": r.event_version.clone().unwrap_or_else(|| "1.1".into()),
                "eventSource": "aws:dynamodb",
                "awsRegion": r.aws_region.clone().unwrap_or_else(|| "us-east-1".into()),
                "eventSourceARN": stream_arn,
                "dynamodb": {
                    "ApproximateCreationDateTime": d.and_then(|d| d.approximate_creation_date_time).map(|t| t.secs()).unwrap_or_else(|| chrono::Utc::now().timestamp()),
                    "Keys": image(d.and_then(|d| d.keys.as_ref())),
                    "NewImage": image(d.and_then(|d| d.new_image.as_ref())),
                    "OldImage": image(d.and_then(|d| d.old_image.as_ref())),
                    "SequenceNumber": d.and_then(|d| d.sequence_number.clone()).unwrap_or_default(),
                    "SizeBytes": d.and_then(|d| d.size_bytes).unwrap_or(0),
                    "StreamViewType": d.and_then(|d| d.stream_view_type.as_ref()).map(|v| v.as_str().to_string()).unwrap_or_default(),
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": recs })
}

/// A queue as an event source.
pub struct QueueSource {
    pub url: String,
    pub arn: String,
    pub batch_size: i32,
}

/// Delivers the queue's messages to `handler` until `stop` turns true.
/// What a queue's messages are handed to.
#[derive(Clone, Copy)]
pub enum SqsTarget {
    /// One domain event at a time, through the consumer harness (named for its dedupe).
    Events(&'static str, EventHandler),
    /// The whole batch.
    Batch(common::runtime::BatchHandler),
}

pub async fn sqs_poller(sdk: SdkConfig, queue: QueueSource, target: SqsTarget, app: &'static App, mut stop: watch::Receiver<bool>) {
    let QueueSource {
        url: queue_url,
        arn: queue_arn,
        batch_size,
    } = queue;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    loop {
        if *stop.borrow() {
            return;
        }
        let out = tokio::select! {
            r = sqs.receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(batch_size.clamp(1, 10))
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send() => r,
            _ = stop.changed() => return,
        };
        let messages = match out {
            Ok(o) => o.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "receive_message failed");
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let event = match sqs_event(&messages, &queue_arn) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "building the SQS event failed");
                continue;
            }
        };
        let resp = match target {
            SqsTarget::Events(consumer, handler) => common::consumer::consume(app, consumer, event, |e| handler(app, e)).await,
            SqsTarget::Batch(handler) => handler(app, event).await,
        };
        let failed: std::collections::HashSet<String> = resp.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        delete_done(&sqs, &queue_url, &messages, &failed).await;
    }
}

/// The Lambda SQS event of `messages` from queue `queue_arn`, as Lambda builds it.
fn sqs_event(
    messages: &[aws_sdk_sqs::types::Message],
    queue_arn: &str,
) -> Result<aws_lambda_events::event::sqs::SqsEvent, serde_json::Error> {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let attrs: serde_json::Map<String, serde_json::Value> = m
                .attributes
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_string(), serde_json::Value::String(v.clone())))
                .collect();
            let mattrs: serde_json::Map<String, serde_json::Value> = m
                .message_attributes
                .iter()
                .flatten()
                .map(|(k, v)| {
                    (k.clone(), serde_json::json!({"stringValue": v.string_value, "dataType": v.data_type, "stringListValues": [], "binaryListValues": []}))
                })
                .collect();
            serde_json::json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "md5OfBody": m.md5_of_body,
                "attributes": attrs,
                "messageAttributes": mattrs,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records }))
}

/// Deletes the messages that did not fail (Lambda's partial batch response).
async fn delete_done(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: &[aws_sdk_sqs::types::Message],
    failed: &std::collections::HashSet<String>,
) {
    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| !failed.contains(m.message_id.as_deref().unwrap_or_default()))
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .set_receipt_handle(m.receipt_handle.clone())
                .build()
                .ok()
        })
        .collect();
    if entries.is_empty() {
        return;
    }
    if let Err(e) = sqs
        .delete_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
    {
        tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "delete_message_batch failed");
    }
}

/// Fires a scheduled function every `period` (first run after one period), as EventBridge
/// would; a failed run is logged and the next one comes on time.
pub async fn scheduler(name: String, period: Duration, handler: ScheduledHandler, app: &'static App, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = handler(app).await {
                    tracing::warn!(function = %name, error = %e, "scheduled run failed");
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// Receive count after which an S3 notification that keeps failing is dropped (logged), as
/// Lambda gives up on an asynchronous event after its retries.
const S3_MAX_RECEIVES: u32 = 3;

/// Delivers the S3 notifications arriving on `queue_url` to an S3-triggered function, one
/// message (one S3 event) at a time; a failed event is retried after the visibility timeout.
pub async fn s3_poller(
    sdk: SdkConfig,
    queue_url: String,
    name: String,
    handler: S3Handler,
    app: &'static App,
    mut stop: watch::Receiver<bool>,
) {
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    loop {
        if *stop.borrow() {
            return;
        }
        let out = tokio::select! {
            r = sqs.receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(2)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send() => r,
            _ = stop.changed() => return,
        };
        let messages = match out {
            Ok(o) => o.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "receive_message failed");
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        for m in messages {
            let body = m.body.as_deref().unwrap_or_default();
            let done = match s3_event(body) {
                // s3:TestEvent and other non-record messages carry nothing to do.
                None => true,
                Some(Err(e)) => {
                    tracing::error!(function = %name, error = %e, "an S3 notification that is not an S3 event");
                    true
                }
                Some(Ok(ev)) if ev.records.is_empty() => true,
                Some(Ok(ev)) => match handler(app, ev).await {
                    Ok(()) => true,
                    Err(e) => {
                        let receives: u32 = m
                            .attributes
                            .as_ref()
                            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(1);
                        tracing::warn!(function = %name, error = %e, receives, "S3 event failed");
                        receives >= S3_MAX_RECEIVES
                    }
                },
            };
            if done {
                if let Some(h) = &m.receipt_handle {
                    let _ = sqs.delete_message().queue_url(&queue_url).receipt_handle(h).send().await;
                }
            }
        }
    }
}

/// The S3 event of a notification message; `None` for messages without records (the
/// `s3:TestEvent` sent when notifications are configured). The stand-in leaves out
/// `userIdentity`, `requestParameters` and `responseElements`, which AWS always sends: they
/// are filled in as AWS would, so the function sees what it sees in AWS.
pub fn s3_event(body: &str) -> Option<Result<aws_lambda_events::event::s3::S3Event, String>> {
    let mut v: serde_json::Value = serde_json::from_str(body).ok()?;
    let records = v.get_mut("Records")?.as_array_mut()?;
    for r in records.iter_mut() {
        let Some(r) = r.as_object_mut() else { continue };
        r.entry("userIdentity")
            .or_insert_with(|| serde_json::json!({"principalId": "AWS:LOCAL"}));
        r.entry("requestParameters")
            .or_insert_with(|| serde_json::json!({"sourceIPAddress": "127.0.0.1"}));
        r.entry("responseElements").or_insert_with(|| serde_json::json!({}));
    }
    Some(serde_json::from_value(v).map_err(|e| e.to_string()))
}
