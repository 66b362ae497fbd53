//! The event backbone: outbox -> stream -> relay -> SNS (filter policy) -> SQS -> consumer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::events::{Actor, DomainEvent, Envelope, UserRegistered};
use integration_tests::*;
use serde_json::json;

async fn receive_all(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    until: impl Fn(&[aws_sdk_sqs::types::Message]) -> bool,
) -> Vec<aws_sdk_sqs::types::Message> {
    let start = Instant::now();
    let mut got = Vec::new();
    while start.elapsed() < Duration::from_secs(10) {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        got.extend(out.messages.unwrap_or_default());
        if until(&got) {
            break;
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_event_arrives_at_the_consumer_queue_through_sns() {
    // Relay on, consumers off: the message stays in the queue for the test to read.
    let s = TestStack::start_with(true, false).await;
    let (email, reg) = s.register("employer").await;
    // A failed registration (duplicate) writes no event: its transaction wrote nothing.
    let dup = s
        .post(
            "/auth/register",
            json!({"email": email, "password": PASSWORD, "role": "seeker", "full_name": "Dup"}),
            None,
        )
        .await;
    assert_eq!(dup.status.as_u16(), 409);

    // Events written after a cancelled transaction still flow.
    let (email2, _) = s.register("seeker").await;

    let sqs = aws_sdk_sqs::Client::new(s.sdk());
    let url = &s.running.stack.queue_urls["NotificationsQueue"];
    let all = receive_all(&sqs, url, |m| m.len() >= 2).await;
    // Give a wrongly written third event time to show up.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let all: Vec<_> = all.into_iter().chain(receive_all(&sqs, url, |_| true).await).collect();
    let emails: Vec<String> = all
        .iter()
        .map(|m| {
            serde_json::from_str::<Envelope>(m.body().unwrap()).unwrap().data["email"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        emails.iter().filter(|e| **e == email).count(),
        1,
        "one event for the first account, none for the failed duplicate: {all:?}"
    );
    assert!(emails.contains(&email2), "{all:?}");
    assert_eq!(all.len(), 2);
    let m = all.iter().find(|m| m.body().unwrap().contains(&email)).unwrap();
    let envelope: Envelope = serde_json::from_str(m.body().unwrap()).expect("raw delivery carries the envelope");
    assert_eq!(envelope.kind, "user.registered");
    assert_eq!(envelope.version, 1);
    assert_eq!(envelope.data["email"], email);
    assert_eq!(envelope.data["user_id"], reg["user"]["id"]);
    assert_eq!(
        envelope.actor,
        Actor::User {
            id: reg["user"]["id"].as_str().unwrap().into()
        }
    );
    assert!(envelope.data.get("password_hash").is_none() && !m.body().unwrap().contains("argon2"));
    let attr = m.message_attributes().unwrap().get("type").expect("type attribute");
    assert_eq!(attr.string_value(), Some("user.registered"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_filter_keeps_other_event_types_out() {
    let s = TestStack::start_with(false, false).await;
    let sns = aws_sdk_sns::Client::new(s.sdk());
    let topic = &s.running.stack.topic_arns["EventsTopic"];
    for kind in ["job.created", "user.registered"] {
        let e = Envelope::raw(kind, 1, Actor::System, json!({"marker": kind}));
        let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(kind)
            .build()
            .unwrap();
        sns.publish()
            .topic_arn(topic)
            .message(serde_json::to_string(&e).unwrap())
            .message_attributes("type", attr)
            .send()
            .await
            .unwrap();
    }
    let sqs = aws_sdk_sqs::Client::new(s.sdk());
    let msgs = receive_all(&sqs, &s.running.stack.queue_urls["NotificationsQueue"], |m| !m.is_empty()).await;
    let kinds: Vec<String> = msgs
        .iter()
        .map(|m| serde_json::from_str::<Envelope>(m.body().unwrap()).unwrap().kind)
        .collect();
    assert_eq!(kinds, vec!["user.registered".to_string()]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notifications_consumer_sends_the_welcome_email() {
    let s = TestStack::start().await;
    let (email, _) = s.register("seeker").await;
    let mail = wait_for_email(&email, "Welcome", Duration::from_secs(10)).await;
    assert!(mail["body"].as_str().unwrap().contains("Test Person"));
    s.shutdown().await;
}

fn sqs_event(bodies: &[String]) -> aws_lambda_events::event::sqs::SqsEvent {
    let records: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"messageId": format!("m{i}"), "receiptHandle": "r", "body": b, "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs"}))
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// A handler that counts its calls and succeeds.
fn counting(calls: &Arc<AtomicUsize>) -> impl Fn(common::consumer::Delivery) -> std::future::Ready<Result<(), String>> {
    let calls = calls.clone();
    move |_| {
        calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(()))
    }
}

/// A `user.registered` envelope as a producer builds it.
fn registered() -> Envelope {
    Envelope::of(
        Actor::System,
        &DomainEvent::UserRegistered(UserRegistered {
            user_id: ulid::Ulid::new().to_string(),
            email: "someone@example.com".into(),
            role: common::token::Role::Seeker,
            full_name: "Someone".into(),
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_ack_unknown_types_and_fail_newer_versions_and_bad_data() {
    let s = TestStack::start_with(false, false).await;
    let app = s.running.app;
    let calls = Arc::new(AtomicUsize::new(0));
    let unknown = serde_json::to_string(&Envelope::raw("user.levitated", 1, Actor::System, json!({}))).unwrap();
    let mut newer = registered();
    newer.version = 2;
    let newer = serde_json::to_string(&newer).unwrap();
    let bad = serde_json::to_string(&Envelope::raw("user.registered", 1, Actor::System, json!({"user_id": 5}))).unwrap();
    let resp = common::consumer::consume(app, "test-typed", sqs_event(&[unknown, newer, bad]), counting(&calls)).await;
    let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(
        failed,
        vec!["m1".to_string(), "m2".to_string()],
        "unknown acknowledged; newer and malformed retried"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the handler sees none of them");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_skip_duplicates_and_report_partial_failures() {
    let s = TestStack::start_with(false, false).await;
    let app = s.running.app;
    let e = registered();
    let body = serde_json::to_string(&e).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));

    let resp = common::consumer::consume(app, "test-consumer", sqs_event(&[body.clone(), body.clone()]), counting(&calls)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the duplicate delivery is skipped");

    // A failing handler: reported, and the claim released so a redelivery runs again.
    let e2 = registered();
    let b2 = serde_json::to_string(&e2).unwrap();
    let resp = common::consumer::consume(app, "test-consumer", sqs_event(&[b2.clone(), "not json".into()]), |_| async {
        Err("boom".to_string())
    })
    .await;
    let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec!["m0".to_string(), "m1".to_string()]);
    let resp = common::consumer::consume(app, "test-consumer", sqs_event(&[b2]), counting(&calls)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_reports_the_record_it_could_not_publish() {
    let s = TestStack::start_with(false, false).await;
    let mut settings = s.running.app.settings.clone();
    settings.events_topic_arn = "arn:aws:sns:us-east-1:123456789012:no-such-topic".into();
    let broken: &'static common::App = Box::leak(Box::new(common::App::new(settings, s.sdk().clone())));
    let e = registered();
    let mut image = serde_json::to_value(&e).unwrap();
    image["entity"] = json!("outbox");
    let item: serde_dynamo::Item = serde_dynamo::to_item(&image).unwrap();
    let stream = json!({"Records": [
        {"eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
         "dynamodb": {"SequenceNumber": "100", "NewImage": serde_json::to_value(&item).unwrap(), "StreamViewType": "NEW_AND_OLD_IMAGES", "SizeBytes": 1}},
        {"eventID": "2", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
         "dynamodb": {"SequenceNumber": "200", "NewImage": serde_json::to_value(&item).unwrap(), "StreamViewType": "NEW_AND_OLD_IMAGES", "SizeBytes": 1}}
    ]});
    let resp = common::relay::relay(broken, serde_json::from_value(stream.clone()).unwrap()).await;
    let ids: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(
        ids,
        vec![Some("200".to_string())],
        "modifications are not events; the failed insert is reported"
    );
    // With the real topic the same batch goes through.
    let resp = common::relay::relay(s.running.app, serde_json::from_value(stream).unwrap()).await;
    assert!(resp.batch_item_failures.is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_failing_ends_in_the_dead_letter_queue() {
    // The real template with short queue timings, so redelivery happens within the test.
    let text = std::fs::read_to_string(devstack::default_template()).unwrap();
    let fast = text
        .replace("      VisibilityTimeout: 60\n", "      VisibilityTimeout: 1\n")
        .replace("        maxReceiveCount: 5\n", "        maxReceiveCount: 2\n");
    assert_ne!(fast, text, "the template still has the timings this test shortens");
    let path = std::env::temp_dir().join(format!("{}-template.yaml", unique("t")));
    std::fs::write(&path, fast).unwrap();
    let s = TestStack::start_from(&path, true, true).await;
    // Sending mail now fails: the sender identity is gone.
    let ses = aws_sdk_sesv2::Client::new(s.sdk());
    ses.delete_email_identity()
        .email_identity(&s.running.app.settings.mail_from)
        .send()
        .await
        .unwrap();

    let (email, _) = s.register("seeker").await;
    let sqs = aws_sdk_sqs::Client::new(s.sdk());
    let dlq = &s.running.stack.queue_urls["NotificationsDLQ"];
    let msgs = receive_all(&sqs, dlq, |m| !m.is_empty()).await;
    assert_eq!(msgs.len(), 1, "the failed event is in the DLQ");
    let e: Envelope = serde_json::from_str(msgs[0].body().unwrap()).unwrap();
    assert_eq!(e.data["email"], email);
    assert!(emails_to(&email).await.is_empty());
    s.shutdown().await;
    let _ = std::fs::remove_file(path);
}
