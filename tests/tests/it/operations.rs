//! What operations rely on: alarms on every dead-letter queue and consumer, and a redrive
//! that applies a fixed poison event once.

use std::time::{Duration, Instant};

use common::events::{Envelope, UserNotice};
use devstack::template::Template;
use integration_tests::*;
use serde_json::{json, Value};

fn yaml(v: &serde_yaml::Value) -> String {
    serde_yaml::to_string(v).unwrap()
}

#[test]
fn every_dead_letter_queue_and_consumer_queue_has_an_alarm_that_reaches_the_alarm_topic() {
    let t = Template::load(&devstack::default_template()).unwrap();
    let alarms: Vec<(&String, String)> = t
        .of_kind("AWS::CloudWatch::Alarm")
        .map(|(id, r)| (id, yaml(&r.properties)))
        .collect();
    let watching = |metric: &str, target: &str| {
        alarms
            .iter()
            .any(|(_, p)| p.contains(&format!("MetricName: {metric}")) && p.contains(target))
    };
    for (id, q) in t.of_kind("AWS::SQS::Queue") {
        // A consumer queue: its oldest message over a minute old is lag; its DLQ alarms.
        if q.properties.get("RedrivePolicy").is_some() {
            assert!(
                watching("ApproximateAgeOfOldestMessage", &format!("!GetAtt {id}.QueueName")),
                "{id} lag"
            );
            let dlq = devstack::redrive::dlq_of(&t, id).unwrap();
            assert!(
                watching("ApproximateNumberOfMessagesVisible", &format!("!GetAtt {dlq}.QueueName")),
                "{dlq}"
            );
        }
    }
    assert!(watching("IteratorAge", "PlatformStreamRelayFunction"), "relay lag");
    assert!(watching("Errors", "AWS/Lambda") && watching("Throttles", "AWS/Lambda"));
    assert!(alarms
        .iter()
        .any(|(_, p)| p.contains("MetricName: 5xx") && p.contains("100 * errors / requests")));
    for (id, p) in &alarms {
        assert!(
            p.contains("AlarmActions") && p.contains("OperatorAlarms") && p.contains("AlarmTopicArn"),
            "{id} notifies nobody"
        );
    }
    assert_eq!(t.parameters["AlarmTopicArn"].as_deref(), Some(""));
}

#[test]
fn the_build_and_the_bench_build_every_crate_binary() {
    let root = devstack::default_template().parent().unwrap().to_path_buf();
    for script in ["scripts/build.sh", "scripts/bench.sh"] {
        let text = std::fs::read_to_string(root.join(script)).unwrap();
        for devstack::Binary { name: binary, .. } in devstack::BINARIES {
            assert!(
                text.contains(&format!("-p {binary} ")) || text.contains(&format!("-p {binary}\n")),
                "{script} does not build {binary}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_fixed_and_redriven_is_applied_once() {
    let s = TestStack::start().await;
    let ada = s.seeker().await;
    let started = Instant::now();
    while emails_to(&ada.email).await.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "the welcome email never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The cause: SES refuses the sender. The consumer fails the event (in-app is done).
    let ses = aws_sdk_sesv2::Client::new(s.sdk());
    let from = s.running.app.settings.mail_from.clone();
    ses.delete_email_identity().email_identity(&from).send().await.unwrap();
    let event = common::events::DomainEvent::PasswordChanged(UserNotice {
        user_id: ada.id.clone(),
        email: ada.email.clone(),
    });
    let envelope = serde_json::to_string(&Envelope::of(common::events::Actor::user(&ada.id), &event)).unwrap();
    let consumer = notifications::FUNCTIONS
        .iter()
        .find(|f| f.name == "notifications-consumer")
        .unwrap();
    let common::runtime::Kind::Consumer(name, handler) = consumer.kind else {
        panic!("the notifications consumer is an event consumer");
    };
    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(json!({"Records": [{"messageId": "poison", "body": envelope}]})).unwrap();
    let app = s.running.app;
    let r = common::consumer::consume(app, name, batch, |e| handler(app, e)).await;
    assert_eq!(r.batch_item_failures.len(), 1, "the event fails while SES refuses");
    // After five failed receives SQS moves it to the dead-letter queue (as its redrive
    // policy says); there it waits for the fix.
    let sqs = aws_sdk_sqs::Client::new(s.sdk());
    let (dlq, queue) = (
        &s.running.stack.queue_urls["NotificationsDLQ"],
        &s.running.stack.queue_urls["NotificationsQueue"],
    );
    let attr = aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value("user.password_changed")
        .build()
        .unwrap();
    sqs.send_message()
        .queue_url(dlq)
        .message_body(&envelope)
        .message_attributes("type", attr)
        .send()
        .await
        .unwrap();

    // The fix, then the redrive (what `make redrive QUEUE=NotificationsQueue` runs).
    ses.create_email_identity().email_identity(&from).send().await.unwrap();
    assert_eq!(devstack::redrive::redrive(s.sdk(), dlq, queue).await.unwrap(), 1);
    let notice = "Your password was changed";
    let started = Instant::now();
    let subjects = || async {
        emails_to(&ada.email)
            .await
            .iter()
            .filter_map(|m| m["subject"].as_str().map(str::to_string))
            .filter(|s| s == notice)
            .count()
    };
    while subjects().await == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "the redriven event was never applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Redriving again moves nothing; a copy delivered again is not applied twice.
    assert_eq!(devstack::redrive::redrive(s.sdk(), dlq, queue).await.unwrap(), 0);
    sqs.send_message().queue_url(queue).message_body(&envelope).send().await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(subjects().await, 1, "one email");
    let listed = ada.get("/me/notifications?limit=50").await;
    let security: Vec<&Value> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "account_security")
        .collect();
    assert_eq!(security.len(), 1, "one in-app notification: {listed:?}");
    s.shutdown().await;
}

/// A function binary started as Lambda starts it (devstack's Runtime API harness, the
/// stand-ins as AWS): each invocation's metrics reach stdout in CloudWatch embedded metric
/// format with the invocation's request id and trace id, and its log lines are JSON.
/// `make test` builds the two binaries (platform, notifications) before the tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_process_writes_embedded_metrics_and_json_logs() {
    use devstack::bench::{http_event, process_env, run, sample};
    let s = TestStack::start().await;
    let t = Template::load(&devstack::default_template()).unwrap();
    let functions = t.functions().unwrap();
    // The test binary is target/<profile>/deps/it-<hash>; the function binaries are beside deps.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    for (handler, event) in [
        ("platform-health", http_event("GET", "/health", None, None)),
        ("notifications-consumer", sample("sqs-user-registered.json")),
    ] {
        let f = functions.iter().find(|f| f.handler == handler).unwrap();
        let binary = dir.join(&f.binary);
        assert!(
            binary.exists(),
            "{} is missing: make test builds it (cargo build -p {})",
            binary.display(),
            f.binary
        );
        let mut env = process_env(&t, &s.running.stack, f, &endpoint());
        env.insert("AWS_LAMBDA_LOG_LEVEL".into(), "INFO".into());
        let r = run(&binary, &env, vec![event.clone(), event], Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!((r.responses.len(), r.errors), (2, 0), "{handler}: {:?}", r.output);
        let lines: Vec<Value> = r
            .output
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{handler} wrote a line that is not JSON ({e}): {l}")))
            .collect();
        let (emf, logs): (Vec<&Value>, Vec<&Value>) = lines.iter().partition(|l| l.get("_aws").is_some());
        // Log lines: the invocation's request id and trace id (lambda_runtime's span).
        let invocations: std::collections::BTreeSet<(String, String)> = logs
            .iter()
            .map(|l| {
                let span = &l["span"];
                (
                    span["requestId"].as_str().unwrap_or_default().to_string(),
                    span["xrayTraceId"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert!(
            invocations.len() == 2 && invocations.iter().all(|(id, trace)| !id.is_empty() && trace.starts_with("Root=")),
            "{handler}: every log line names its invocation: {logs:?}"
        );
        // Metrics: every invocation's, in the namespace, with the function and both ids.
        for d in &emf {
            assert_eq!(d["_aws"]["CloudWatchMetrics"][0]["Namespace"], "JobPlatform", "{d}");
            assert_eq!(d["function"], handler, "{d}");
            let ids = (
                d["request_id"].as_str().unwrap_or_default().to_string(),
                d["trace_id"].as_str().unwrap_or_default().to_string(),
            );
            assert!(invocations.contains(&ids), "{handler}: metrics of an invocation the logs name: {d}");
        }
        let total = |name: &str, dim: (&str, &str)| -> f64 {
            emf.iter()
                .filter(|d| d[dim.0] == dim.1)
                .filter_map(|d| d.get(name))
                .map(|v| match v {
                    Value::Array(a) => a.len() as f64,
                    v => v.as_f64().unwrap_or_default(),
                })
                .sum()
        };
        assert_eq!(total("cold_starts", ("function", handler)), 1.0, "{handler}: one start: {emf:?}");
        if handler == "platform-health" {
            assert_eq!(total("requests", ("route", "GET /health")), 2.0, "{emf:?}");
        } else {
            assert_eq!(total("batch_size", ("consumer", "notifications")), 2.0, "{emf:?}");
            // The sample event occurred in the past: its lag is recorded, in milliseconds.
            assert!(total("processing_lag", ("consumer", "notifications")) >= 1.0, "{emf:?}");
            assert!(emf.iter().any(|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .is_some_and(|m| m.contains(&json!({"Name": "processing_lag", "Unit": "Milliseconds"})))));
        }
    }
    s.shutdown().await;
}
