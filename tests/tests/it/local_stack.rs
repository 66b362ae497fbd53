//! The local stack serves every route and creates every resource of template.yaml.

use devstack::template::{FunctionEvent, Template};
use integration_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_template_is_served() {
    let t = Template::load(&devstack::default_template()).unwrap();
    devstack::check_functions(&t).unwrap();
    let s = TestStack::start_with(false, false).await;
    let mut expected: Vec<_> = t.http_routes().unwrap();
    let mut served = s.running.routes.clone();
    expected.sort();
    served.sort();
    assert_eq!(served, expected);
    for (method, path, binary) in &expected {
        if path == "$default" {
            continue;
        }
        let r = s.send(method, &concrete_path(path), None, None).await;
        let routed = !r.body["message"].as_str().unwrap_or_default().starts_with("no route for");
        assert!(
            // Routed to its handler; a 404 from the handler itself is fine for a made-up id.
            routed && (r.status.as_u16() != 404 || path.contains('{')),
            "{method} {path} ({binary}) is not served: {r:?}"
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_of_the_template_is_created() {
    let t = Template::load(&devstack::default_template()).unwrap();
    let s = TestStack::start_with(false, false).await;
    let st = &s.running.stack;
    let sqs = aws_sdk_sqs::Client::new(s.sdk());
    let sns = aws_sdk_sns::Client::new(s.sdk());
    for (id, r) in &t.resources {
        match r.kind.as_str() {
            "AWS::DynamoDB::Table" => step_the_table_has_its_indexes_stream_and_ttl(&s, id, r).await,
            "AWS::SQS::Queue" => {
                let a = sqs
                    .get_queue_attributes()
                    .queue_url(&st.queue_urls[id])
                    .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                    .send()
                    .await
                    .unwrap();
                let attrs = a.attributes().unwrap();
                if r.properties.get("RedrivePolicy").is_some() {
                    assert!(
                        attrs.contains_key(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy),
                        "{id} redrive"
                    );
                }
            }
            "AWS::SNS::Topic" => {
                sns.get_topic_attributes().topic_arn(&st.topic_arns[id]).send().await.unwrap();
            }
            "AWS::SNS::Subscription" => {
                let arn = &st.resolved.refs[id];
                let a = sns.get_subscription_attributes().subscription_arn(arn).send().await.unwrap();
                let attrs = a.attributes().unwrap();
                assert_eq!(attrs.get("RawMessageDelivery").map(String::as_str), Some("true"), "{id}");
                // A filter policy on `type` naming only known event types.
                let policy: serde_json::Value = serde_json::from_str(attrs.get("FilterPolicy").expect("a filter policy")).unwrap();
                let types = policy["type"].as_array().expect("filters on type");
                assert!(!types.is_empty(), "{id}");
                for t in types {
                    assert!(
                        common::events::DomainEvent::TYPES.iter().any(|(k, _)| t == k),
                        "{id}: unknown type {t}"
                    );
                }
            }
            "AWS::SES::EmailIdentity" => {
                let ses = aws_sdk_sesv2::Client::new(s.sdk());
                ses.get_email_identity().email_identity(&st.resolved.refs[id]).send().await.unwrap();
            }
            "AWS::S3::Bucket" => {
                let s3 = devstack::provision::s3_client(s.sdk());
                s3.head_bucket().bucket(&st.bucket_names[id]).send().await.unwrap();
                // Versioned: an object written twice keeps both versions. (moto 5's
                // GetBucketVersioning reply has a root the SDK refuses, so this checks the
                // behaviour.)
                let bucket = &st.bucket_names[id];
                for body in ["one", "two"] {
                    s3.put_object()
                        .bucket(bucket)
                        .key("probe/versioning")
                        .body(body.as_bytes().to_vec().into())
                        .send()
                        .await
                        .unwrap();
                }
                let v = s3.list_object_versions().bucket(bucket).prefix("probe/").send().await.unwrap();
                assert_eq!(v.versions().len(), 2, "{id} is versioned");
            }
            "AWS::OpenSearchServerless::Collection" => {
                let url = &st.resolved.attrs[&(id.clone(), "CollectionEndpoint".to_string())];
                let r = reqwest::get(url).await.expect("the search stand-in answers");
                assert!(r.status().is_success(), "{id}: {url}");
            }
            // The gateway serves the WebSocket API at /ws; its management API answers on a
            // loopback port of its own (LIVE_ENDPOINT), never on the public one.
            "AWS::ApiGatewayV2::Api" => {
                let at = format!("http://{}/ws/@connections/nobody", s.running.management_addr);
                let r = reqwest::get(&at).await.unwrap();
                assert_eq!(r.status().as_u16(), 410, "{id}: a connection that is not open is gone");
                assert_eq!(
                    s.running.app.settings.live_endpoint.as_deref(),
                    at.strip_suffix("/@connections/nobody")
                );
                for method in [reqwest::Method::GET, reqwest::Method::POST, reqwest::Method::DELETE] {
                    let public = format!("{}/ws/@connections/nobody", s.running.base_url());
                    let r = reqwest::Client::new().request(method.clone(), &public).send().await.unwrap();
                    assert_eq!(r.status().as_u16(), 404, "{id}: {method} on the public port");
                }
            }
            // Each route reaches its function through its integration.
            "AWS::ApiGatewayV2::Route" => {
                let key = r.properties["RouteKey"].as_str().unwrap();
                let routes = t.websocket_routes().unwrap();
                assert!(routes.iter().any(|(k, _)| k == key), "{id}: {key} is not served");
            }
            // The secret exists under its name, holding a ring the functions read.
            "AWS::SecretsManager::Secret" => {
                let sm = aws_sdk_secretsmanager::Client::new(s.sdk());
                let name = st.resolved.resolve(&r.properties["Name"]).unwrap();
                let d = sm.describe_secret().secret_id(&name).send().await.unwrap();
                assert_eq!(d.arn.as_deref(), Some(st.resolved.refs[id].as_str()), "{id}: Ref is the ARN");
                common::secrets::fetch(&sm, &name).await.unwrap();
            }
            // Stages and integrations are checked through the routes; permissions are AWS's.
            "AWS::ApiGatewayV2::Stage" | "AWS::ApiGatewayV2::Integration" | "AWS::Lambda::Permission" | "AWS::IAM::ManagedPolicy" => {}
            // CloudWatch is AWS's (a template test checks what each alarm watches).
            "AWS::CloudWatch::Alarm" => {}
            // Access, encryption and network policies are AWS's to enforce.
            "AWS::SQS::QueuePolicy"
            | "AWS::Serverless::HttpApi"
            | "AWS::OpenSearchServerless::SecurityPolicy"
            | "AWS::OpenSearchServerless::AccessPolicy" => {}
            "AWS::Serverless::Function" => step_the_function_is_wired(&s, &t, id).await,
            other => panic!("resource {id} of type {other} is not checked here; add it to the local stack and to this test"),
        }
    }
    s.shutdown().await;
}

/// Its indexes, its stream and TTL on `ttl`.
async fn step_the_table_has_its_indexes_stream_and_ttl(s: &TestStack, id: &str, r: &devstack::template::Resource) {
    let st = &s.running.stack;
    let ddb = aws_sdk_dynamodb::Client::new(s.sdk());
    let d = ddb
        .describe_table()
        .table_name(&st.table_names[id])
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let want = r.properties["GlobalSecondaryIndexes"].as_sequence().map_or(0, |g| g.len());
    assert_eq!(d.global_secondary_indexes().len(), want, "{id} indexes");
    assert!(d.stream_specification().is_some_and(|s| s.stream_enabled()), "{id} stream");
    let ttl = ddb.describe_time_to_live().table_name(&st.table_names[id]).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|t| t.attribute_name()), Some("ttl"));
    // Recovery: deletion protection and point-in-time recovery.
    assert_eq!(d.deletion_protection_enabled(), Some(true), "{id} deletion protection");
    let backups = ddb
        .describe_continuous_backups()
        .table_name(&st.table_names[id])
        .send()
        .await
        .unwrap();
    let pitr = backups
        .continuous_backups_description()
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status());
    assert_eq!(
        pitr,
        Some(&aws_sdk_dynamodb::types::PointInTimeRecoveryStatus::Enabled),
        "{id} point-in-time recovery"
    );
}

/// Its event sources exist: queues, streams, bucket notifications, schedules of scheduled functions.
async fn step_the_function_is_wired(s: &TestStack, t: &Template, id: &str) {
    let st = &s.running.stack;
    let f = t.functions().unwrap().into_iter().find(|f| f.logical_id == id).unwrap();
    for e in f.events {
        match e {
            FunctionEvent::Sqs { queue, .. } => assert!(st.queue_urls.contains_key(&queue)),
            FunctionEvent::Stream { table, .. } => assert!(st.stream_arns.contains_key(&table)),
            FunctionEvent::Http { .. } => {}
            FunctionEvent::S3 { bucket, .. } => {
                assert!(st.s3_event_queues.contains_key(id), "{id}: S3 notifications have a queue");
                let s3 = devstack::provision::s3_client(s.sdk());
                let conf = s3
                    .get_bucket_notification_configuration()
                    .bucket(&st.bucket_names[&bucket])
                    .send()
                    .await
                    .unwrap();
                assert!(
                    conf.queue_configurations()
                        .iter()
                        .any(|q| q.queue_arn() == st.s3_event_queues[id].1),
                    "{id}: the bucket notifies its queue"
                );
            }
            FunctionEvent::Schedule { .. } => assert!(
                matches!(devstack::functions()[f.handler.as_str()], common::runtime::Kind::Scheduled(_)),
                "{id}: a schedule fires a scheduled function"
            ),
        }
    }
}

#[test]
fn unknown_resource_types_stop_the_local_stack() {
    let text = std::fs::read_to_string(devstack::default_template()).unwrap();
    let broken = text.replace(
        "  EventsTopic:\n    Type: AWS::SNS::Topic",
        "  EventsTopic:\n    Type: AWS::Kinesis::Stream",
    );
    let t = Template::parse(&broken).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    std::env::var("AWS_ENDPOINT_URL").expect("run with make test");
    let err = rt.block_on(async {
        let sdk = devstack::load_sdk_config().await;
        devstack::provision::provision(&t, &sdk, &unique("t"), &std::collections::HashMap::new())
            .await
            .unwrap_err()
    });
    assert!(err.contains("AWS::Kinesis::Stream"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_sdk_configuration_from_the_environment_works() {
    let s = TestStack::start_with(false, false).await;
    // What a Lambda does: settings given, SDK configuration built from the environment.
    let sdk = common::app::sdk_config_from_env(|k| std::env::var(k).ok());
    assert_eq!(sdk.endpoint_url(), Some(endpoint().as_str()));
    let app = common::App::new(s.running.app.settings.clone(), sdk);
    app.dynamo().describe_table().table_name(app.table()).send().await.unwrap();
    app.sns()
        .get_topic_attributes()
        .topic_arn(&app.settings.events_topic_arn)
        .send()
        .await
        .unwrap();
    let probe = serde_json::json!({"name": "Probe", "next_step": "-", "reason": "a probe"});
    let mail = common::mail::render("welcome", "probe@example.com", "probe", &probe).unwrap();
    common::mail::send(&app, &mail).await.unwrap();
    // The key rings, as a function reads them at init.
    assert!(app.tokens().is_err() && app.field_keys().is_err(), "nothing held before the fetch");
    app.refresh_secrets().await.unwrap();
    let token = app
        .tokens()
        .unwrap()
        .access_token("u", common::token::Role::Seeker, "s", common::time::now_secs())
        .unwrap();
    assert_eq!(s.keys().principal(&token).unwrap().user_id, "u", "the same keys as the stack's");
    let sealed = app.field_keys().unwrap().seal("c", "x");
    assert_eq!(s.running.app.field_keys().unwrap().open("c", &sealed).unwrap(), "x");
    s.shutdown().await;
}

/// With `SearchDomainEndpoint`, the stack creates no collection and the functions sign for
/// a managed domain (`es`) at that endpoint; search works the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_can_use_an_existing_domain_instead_of_a_collection() {
    let domain = search_url();
    let s = TestStack::start_with_params(&[
        ("SearchDomainEndpoint", domain.as_str()),
        ("SearchDomainArn", "arn:aws:es:us-east-1:123456789012:domain/jobs"),
    ])
    .await;
    assert!(!s.running.stack.resolved.conditions["CreateSearchCollection"], "no collection");
    let search = s.running.app.settings.search.clone().expect("search settings");
    assert_eq!((search.endpoint.as_str(), search.service.as_str()), (domain.as_str(), "es"));
    let (admin, employer) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = employer.create_company("Domain Co").await;
    let job = employer
        .post_job(&company, &category, serde_json::json!({"status": "published"}))
        .await;
    s.get_until(
        &format!("/search/jobs?company_id={company}"),
        None,
        std::time::Duration::from_secs(8),
        |r| hit_ids(r) == vec![job.clone()],
    )
    .await;
    s.shutdown().await;
}
