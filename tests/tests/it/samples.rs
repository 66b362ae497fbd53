//! The sample events under events/ are what the functions really accept.

use std::path::PathBuf;

use common::events::Envelope;

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(events_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn domain_event_examples_are_envelopes_and_documented() {
    let docs = std::fs::read_to_string(events_dir().join("../docs/events.md")).unwrap();
    let mut n = 0;
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(events_dir().join("domain")).unwrap() {
        let path = entry.unwrap().path();
        let e: Envelope = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(path.file_stem().unwrap().to_str().unwrap(), e.kind, "file named after its type");
        assert_eq!(e.id.len(), 26, "ULID id");
        assert!(common::time::parse_rfc3339(&e.occurred_at).is_some());
        assert!(
            docs.contains(&format!("`{}`", e.kind)),
            "{} is documented in docs/events.md",
            e.kind
        );
        let typed = e.decode().unwrap_or_else(|err| panic!("{path:?} is not a DomainEvent: {err:?}"));
        assert_eq!(typed.version(), e.version, "{path:?}: the version this code produces");
        assert_eq!(typed.data(), e.data, "{path:?}: the typed event says all the example says");
        seen.insert(e.kind.clone());
        n += 1;
    }
    assert!(n >= 3);
    let missing: Vec<_> = common::events::DomainEvent::TYPES
        .iter()
        .filter(|(t, _)| !seen.contains(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "event types without an example under events/domain/: {missing:?}"
    );
}

#[test]
fn lambda_event_samples_parse_as_the_runtime_parses_them() {
    let _: lambda_http::request::LambdaRequest = serde_json::from_str(&read("lambda/http-auth-register.json")).unwrap();
    let _: lambda_http::request::LambdaRequest = serde_json::from_str(&read("lambda/http-health.json")).unwrap();
    let stream: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(&read("lambda/stream-outbox-insert.json")).unwrap();
    let image = stream.records[0].change.new_image.clone();
    let e: Envelope = serde_dynamo::from_item(image).unwrap();
    assert_eq!(e.kind, "user.registered");
    let sqs: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&read("lambda/sqs-user-registered.json")).unwrap();
    let e = common::consumer::parse_body(sqs.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(e.kind, "user.registered");
    let common::events::DomainEvent::UserRegistered(u) = e.decode().unwrap() else {
        panic!("a user.registered sample that decodes as another type")
    };
    let context = serde_json::json!({"name": u.full_name, "next_step": "-", "reason": "-"});
    assert!(common::mail::render("welcome", &u.email, "Welcome", &context)
        .unwrap()
        .text
        .contains(&u.full_name));
    // The WebSocket API's events (as API Gateway sends them) and their connection ids.
    for (file, route) in [
        ("lambda/websocket-connect.json", "$connect"),
        ("lambda/websocket-disconnect.json", "$disconnect"),
    ] {
        let ws: aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest = serde_json::from_str(&read(file)).unwrap();
        assert_eq!(ws.request_context.route_key.as_deref(), Some(route));
        assert_eq!(ws.request_context.connection_id.as_deref(), Some("Pjr8XdHHDoECF4Q="));
    }
    // The expiry function takes any JSON (it does not read the event).
    let schedule: aws_lambda_events::event::eventbridge::EventBridgeEvent =
        serde_json::from_str(&read("lambda/schedule-jobs-expire.json")).unwrap();
    assert_eq!(schedule.detail_type, "Scheduled Event");
    let s3: aws_lambda_events::event::s3::S3Event = serde_json::from_str(&read("lambda/s3-resume-uploaded.json")).unwrap();
    let key = s3.records[0].s3.object.key.as_deref().unwrap();
    assert!(files::rules::parse_incoming(key).is_some(), "{key}");
    // The stand-in's notifications parse too once the local stack fills in what it leaves out.
    let moto = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-22T04:56:21.292Z", "eventName": "ObjectCreated:Put", "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "b", "arn": "arn:aws:s3:::b"}, "object": {"key": "incoming%2Fx", "size": 2}}}]}"#;
    assert_eq!(devstack::pollers::s3_event(moto).unwrap().unwrap().records.len(), 1);
    assert!(devstack::pollers::s3_event(r#"{"Service": "Amazon S3", "Event": "s3:TestEvent"}"#).is_none());
}
