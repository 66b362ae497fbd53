//! Creates a template's resources in the AWS stand-in, named `<prefix>-<LogicalId>`, so each
//! local stack (the dev stack, each test) is isolated. Fails on any resource type it does
//! not know, so template.yaml cannot grow a resource the local stack silently lacks.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml::Value;

use crate::template::{Resolved, Template};

pub const ACCOUNT_ID: &str = "123456789012";

/// What one local stack is made of.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub prefix: String,
    pub resolved: Resolved,
    pub table_names: HashMap<String, String>,
    pub stream_arns: HashMap<String, String>,
    pub queue_urls: HashMap<String, String>,
    pub topic_arns: HashMap<String, String>,
    pub bucket_names: HashMap<String, String>,
    /// Function logical id -> (URL, ARN) of the queue its S3 notifications arrive on.
    pub s3_event_queues: HashMap<String, (String, String)>,
}

impl Stack {
    /// The environment of the local gateway's one `App`: Globals.Function.Environment plus
    /// every function's own variables, resolved. (Each Lambda gets only its own; locally one
    /// process runs them all.) The same variable with two values is an error.
    pub fn function_env(&self, t: &Template) -> Result<HashMap<String, String>, String> {
        let mut env: HashMap<String, String> = t
            .globals_env
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.resolved.resolve(v)?)))
            .collect::<Result<_, String>>()?;
        for f in t.functions()? {
            for (k, v) in &f.env {
                let v = self.resolved.resolve(v)?;
                match env.get(k) {
                    Some(existing) if *existing != v => {
                        return Err(format!(
                            "{}: environment variable {k} differs from another function's or Globals'",
                            f.logical_id
                        ));
                    }
                    _ => {
                        env.insert(k.clone(), v);
                    }
                }
            }
        }
        Ok(env)
    }
}

fn err<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

/// YAML (with intrinsics) -> JSON with every intrinsic resolved.
pub fn resolve_deep(r: &Resolved, v: &Value) -> Result<serde_json::Value, String> {
    if crate::template::intrinsic(v).is_some() {
        return Ok(serde_json::Value::String(r.resolve(v)?));
    }
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(s) => serde_json::Value::Array(s.iter().map(|x| resolve_deep(r, x)).collect::<Result<_, _>>()?),
        Value::Mapping(m) => {
            let mut o = serde_json::Map::new();
            for (k, x) in m {
                o.insert(k.as_str().unwrap_or_default().to_string(), resolve_deep(r, x)?);
            }
            serde_json::Value::Object(o)
        }
        Value::Tagged(t) => return Err(format!("unsupported intrinsic {}", t.tag)),
    })
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, String> {
    v.as_sequence()
        .ok_or("KeySchema must be a list")?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(k.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                .key_type(KeyType::from(k.get("KeyType").and_then(Value::as_str).unwrap_or_default()))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

async fn create_table(sdk: &SdkConfig, name: &str, p: &Value) -> Result<(String, Option<String>), String> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let mut req = ddb.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for a in p
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .ok_or("table needs AttributeDefinitions")?
    {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    a.get("AttributeType").and_then(Value::as_str).unwrap_or_default(),
                ))
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    req = req.set_key_schema(Some(key_schema(p.get("KeySchema").ok_or("table needs KeySchema")?)?));
    for g in p.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
        let proj = g.get("Projection");
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(
                proj.and_then(|p| p.get("ProjectionType")).and_then(Value::as_str).unwrap_or("ALL"),
            ))
            .set_non_key_attributes(
                proj.and_then(|p| p.get("NonKeyAttributes"))
                    .and_then(Value::as_sequence)
                    .map(|s| s.iter().filter_map(|x| x.as_str().map(String::from)).collect()),
            )
            .build();
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(g.get("IndexName").and_then(Value::as_str).unwrap_or_default())
                .set_key_schema(Some(key_schema(g.get("KeySchema").ok_or("index needs KeySchema")?)?))
                .projection(projection)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if let Some(view) = p
        .get("StreamSpecification")
        .and_then(|s| s.get("StreamViewType"))
        .and_then(Value::as_str)
    {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    let out = req
        .send()
        .await
        .map_err(|e| format!("creating table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    let desc = out.table_description.ok_or("no table description")?;
    if let Some(ttl) = p.get("TimeToLiveSpecification") {
        if ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false) {
            ddb.update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(ttl.get("AttributeName").and_then(Value::as_str).unwrap_or("ttl"))
                        .enabled(true)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(err("update_time_to_live"))?;
        }
    }
    Ok((desc.table_arn.unwrap_or_default(), desc.latest_stream_arn))
}

/// Creates every resource of `t` under `prefix`. `params` overrides parameter defaults.
/// The URL of the local search stand-in, set by scripts/lib.sh `start_search`.
pub const SEARCH_URL_VAR: &str = "LOCAL_SEARCH_URL";

pub async fn provision(t: &Template, sdk: &SdkConfig, prefix: &str, params: &HashMap<String, String>) -> Result<Stack, String> {
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let mut st = Stack {
        prefix: prefix.to_string(),
        ..Default::default()
    };
    let r = &mut st.resolved;
    r.refs.insert("AWS::Region".into(), region.clone());
    r.refs.insert("AWS::AccountId".into(), ACCOUNT_ID.into());
    r.refs.insert("AWS::Partition".into(), "aws".into());
    r.refs.insert("AWS::StackName".into(), prefix.into());
    r.refs.insert("AWS::URLSuffix".into(), "amazonaws.com".into());
    for (name, default) in &t.parameters {
        let v = params
            .get(name)
            .cloned()
            .or_else(|| default.clone())
            .ok_or(format!("template parameter {name} needs a value"))?;
        r.refs.insert(name.clone(), v);
    }
    // SNS platform applications have no CloudFormation type: deployed, their ARNs are
    // parameters; locally the stand-in gets one per empty `*PlatformApplicationArn`.
    for name in t.parameters.keys() {
        let Some(kind) = name.strip_suffix("PlatformApplicationArn") else {
            continue;
        };
        if !r.refs.get(name).is_some_and(|v| v.is_empty()) {
            continue;
        }
        let platform = if kind == "Apns" { "APNS" } else { "GCM" };
        let out = aws_sdk_sns::Client::new(sdk)
            .create_platform_application()
            .name(format!("{prefix}-{kind}"))
            .platform(platform)
            .attributes("PlatformCredential", "local-stand-in")
            .send()
            .await
            .map_err(err("create_platform_application"))?;
        r.refs.insert(name.clone(), out.platform_application_arn.unwrap_or_default());
    }
    r.evaluate_conditions(&t.conditions)?;
    let existing = t.existing(r);
    let t = &existing;
    let local = |id: &str| format!("{prefix}-{id}");
    const KNOWN: &[&str] = &[
        "AWS::DynamoDB::Table",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::Subscription",
        "AWS::SES::EmailIdentity",
        "AWS::Serverless::Function",
        "AWS::Serverless::HttpApi",
        "AWS::S3::Bucket",
        "AWS::OpenSearchServerless::Collection",
        "AWS::OpenSearchServerless::SecurityPolicy",
        "AWS::OpenSearchServerless::AccessPolicy",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::Lambda::Permission",
        "AWS::IAM::ManagedPolicy",
        "AWS::SecretsManager::Secret",
        "AWS::CloudWatch::Alarm",
    ];
    if let Some((id, r)) = t.resources.iter().find(|(_, r)| !KNOWN.contains(&r.kind.as_str())) {
        return Err(format!("resource {id}: type {} is not supported by the local stack", r.kind));
    }

    // Everything that needs nothing else first.
    for (id, res) in &t.resources {
        match res.kind.as_str() {
            "AWS::DynamoDB::Table" => {
                let name = local(id);
                let (arn, stream) = create_table(sdk, &name, &res.properties).await?;
                crate::protect::table(sdk, &name, &res.properties).await?;
                st.resolved.refs.insert(id.clone(), name.clone());
                st.resolved.attrs.insert((id.clone(), "Arn".into()), arn);
                if let Some(s) = stream {
                    st.resolved.attrs.insert((id.clone(), "StreamArn".into()), s.clone());
                    st.stream_arns.insert(id.clone(), s);
                }
                st.table_names.insert(id.clone(), name);
            }
            "AWS::SNS::Topic" => {
                let out = aws_sdk_sns::Client::new(sdk)
                    .create_topic()
                    .name(local(id))
                    .send()
                    .await
                    .map_err(err("create_topic"))?;
                let arn = out.topic_arn.unwrap_or_default();
                st.resolved.refs.insert(id.clone(), arn.clone());
                st.resolved.attrs.insert((id.clone(), "TopicArn".into()), arn.clone());
                st.topic_arns.insert(id.clone(), arn);
            }
            "AWS::Serverless::HttpApi" => {
                st.resolved.refs.insert(id.clone(), "local".into());
            }
            "AWS::SecretsManager::Secret" => {
                let arn = crate::secrets::create(sdk, id, &res.properties, &st.resolved, &local(id)).await?;
                st.resolved.refs.insert(id.clone(), arn);
            }
            // The local gateway serves the WebSocket API at /ws and answers its management
            // API there (crate::live); LIVE_ENDPOINT is set to it. Integrations, routes and
            // permissions are read from the template by `Template::websocket_routes`.
            "AWS::ApiGatewayV2::Api" => {
                st.resolved.refs.insert(id.clone(), "local-live".into());
            }
            "AWS::ApiGatewayV2::Stage" => {
                let name = res.properties.get("StageName").and_then(Value::as_str).unwrap_or("live");
                st.resolved.refs.insert(id.clone(), name.to_string());
            }
            // The search stand-in (osmem-server, started by the project's scripts) is the
            // collection; its policies are AWS's to enforce. Each stack's indexes carry its
            // prefix (SEARCH_INDEX_PREFIX), so stacks share one stand-in.
            "AWS::OpenSearchServerless::Collection" => {
                let url = std::env::var(SEARCH_URL_VAR).ok().filter(|u| !u.is_empty()).ok_or(format!(
                    "resource {id}: {SEARCH_URL_VAR} is not set (make dev and make test start the search stand-in and set it)"
                ))?;
                st.resolved.refs.insert(id.clone(), local(id));
                st.resolved.attrs.insert((id.clone(), "CollectionEndpoint".into()), url);
                st.resolved.attrs.insert(
                    (id.clone(), "Arn".into()),
                    format!("arn:aws:aoss:{region}:{ACCOUNT_ID}:collection/{}", local(id)),
                );
            }
            "AWS::S3::Bucket" => {
                // Encryption, public access block, CORS and lifecycle rules are AWS's to
                // enforce; the stand-in gets the bucket and its notifications.
                let name = match res.properties.get("BucketName") {
                    Some(v) => st.resolved.resolve(v)?,
                    None => local(id).to_lowercase(),
                };
                let s3 = s3_client(sdk);
                let mut req = s3.create_bucket().bucket(&name);
                if region != "us-east-1" {
                    req = req.create_bucket_configuration(
                        aws_sdk_s3::types::CreateBucketConfiguration::builder()
                            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str()))
                            .build(),
                    );
                }
                req.send()
                    .await
                    .map_err(|e| format!("create_bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
                st.resolved.refs.insert(id.clone(), name.clone());
                st.resolved.attrs.insert((id.clone(), "Arn".into()), format!("arn:aws:s3:::{name}"));
                crate::protect::bucket(sdk, &name, &res.properties).await?;
                st.bucket_names.insert(id.clone(), name);
            }
            _ => {}
        }
    }

    // Queues, dead-letter queues before the queues that redrive to them.
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut queues: Vec<(&String, &crate::template::Resource)> = t.of_kind("AWS::SQS::Queue").collect();
    queues.sort_by_key(|(_, q)| q.properties.get("RedrivePolicy").is_some());
    for (id, q) in queues {
        let mut req = sqs.create_queue().queue_name(local(id));
        let p = &q.properties;
        for (prop, attr) in [
            ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
            ("MessageRetentionPeriod", QueueAttributeName::MessageRetentionPeriod),
            ("DelaySeconds", QueueAttributeName::DelaySeconds),
            ("ReceiveMessageWaitTimeSeconds", QueueAttributeName::ReceiveMessageWaitTimeSeconds),
        ] {
            if let Some(v) = p.get(prop) {
                req = req.attributes(attr, st.resolved.resolve(v)?);
            }
        }
        if let Some(rp) = p.get("RedrivePolicy") {
            req = req.attributes(QueueAttributeName::RedrivePolicy, resolve_deep(&st.resolved, rp)?.to_string());
        }
        let url = req.send().await.map_err(err("create_queue"))?.queue_url.unwrap_or_default();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(err("get_queue_attributes"))?;
        let arn = attrs
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .unwrap_or_default();
        st.resolved.refs.insert(id.clone(), url.clone());
        st.resolved.attrs.insert((id.clone(), "Arn".into()), arn);
        st.resolved.attrs.insert((id.clone(), "QueueName".into()), local(id));
        st.queue_urls.insert(id.clone(), url);
    }

    for (id, p) in t.of_kind("AWS::SQS::QueuePolicy") {
        let doc = resolve_deep(
            &st.resolved,
            p.properties.get("PolicyDocument").ok_or(format!("{id}: no PolicyDocument"))?,
        )?;
        for q in p.properties.get("Queues").and_then(Value::as_sequence).into_iter().flatten() {
            let url = st.resolved.resolve(q)?;
            sqs.set_queue_attributes()
                .queue_url(url)
                .attributes(QueueAttributeName::Policy, doc.to_string())
                .send()
                .await
                .map_err(err("set_queue_attributes"))?;
        }
    }

    let sns = aws_sdk_sns::Client::new(sdk);
    for (id, s) in t.of_kind("AWS::SNS::Subscription") {
        let p = &s.properties;
        let get = |k: &str| p.get(k).ok_or(format!("subscription {id} has no {k}"));
        let topic = st.resolved.resolve(get("TopicArn")?)?;
        let endpoint = st.resolved.resolve(get("Endpoint")?)?;
        let protocol = st.resolved.resolve(get("Protocol")?)?;
        let mut req = sns
            .subscribe()
            .topic_arn(topic)
            .protocol(protocol)
            .endpoint(endpoint)
            .return_subscription_arn(true);
        if let Some(raw) = p.get("RawMessageDelivery") {
            req = req.attributes("RawMessageDelivery", st.resolved.resolve(raw)?);
        }
        if let Some(fp) = p.get("FilterPolicy") {
            req = req.attributes("FilterPolicy", resolve_deep(&st.resolved, fp)?.to_string());
        }
        if let Some(scope) = p.get("FilterPolicyScope") {
            req = req.attributes("FilterPolicyScope", st.resolved.resolve(scope)?);
        }
        let arn = req.send().await.map_err(err("subscribe"))?.subscription_arn.unwrap_or_default();
        st.resolved.refs.insert(id.clone(), arn);
    }

    // S3 notifications: one queue per function, one notification configuration per bucket.
    let mut per_bucket: HashMap<String, Vec<aws_sdk_s3::types::QueueConfiguration>> = HashMap::new();
    for f in t.functions()? {
        for e in &f.events {
            let crate::template::FunctionEvent::S3 { bucket, events, prefix } = e else {
                continue;
            };
            if !st.bucket_names.contains_key(bucket) {
                return Err(format!("{}: bucket {bucket} is not in the template", f.logical_id));
            }
            let url = sqs
                .create_queue()
                .queue_name(local(&format!("{}-s3", f.logical_id)))
                .send()
                .await
                .map_err(err("create_queue"))?
                .queue_url
                .unwrap_or_default();
            let arn = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .map_err(err("get_queue_attributes"))?
                .attributes
                .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
                .unwrap_or_default();
            let mut qc = aws_sdk_s3::types::QueueConfiguration::builder()
                .queue_arn(&arn)
                .set_events(Some(events.iter().map(|e| aws_sdk_s3::types::Event::from(e.as_str())).collect()));
            if let Some(p) = prefix {
                qc = qc.filter(
                    aws_sdk_s3::types::NotificationConfigurationFilter::builder()
                        .key(
                            aws_sdk_s3::types::S3KeyFilter::builder()
                                .filter_rules(
                                    aws_sdk_s3::types::FilterRule::builder()
                                        .name(aws_sdk_s3::types::FilterRuleName::Prefix)
                                        .value(p)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                );
            }
            per_bucket
                .entry(bucket.clone())
                .or_default()
                .push(qc.build().map_err(err("queue configuration"))?);
            st.s3_event_queues.insert(f.logical_id.clone(), (url, arn));
        }
    }
    for (bucket, configs) in per_bucket {
        s3_client(sdk)
            .put_bucket_notification_configuration()
            .bucket(&st.bucket_names[&bucket])
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder()
                    .set_queue_configurations(Some(configs))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                format!(
                    "put_bucket_notification_configuration: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
    }

    let ses = aws_sdk_sesv2::Client::new(sdk);
    for (id, e) in t.of_kind("AWS::SES::EmailIdentity") {
        let identity = st
            .resolved
            .resolve(e.properties.get("EmailIdentity").ok_or(format!("{id}: no EmailIdentity"))?)?;
        match ses.create_email_identity().email_identity(&identity).send().await {
            Ok(_) => {}
            Err(e) if format!("{e:?}").contains("AlreadyExists") => {}
            Err(e) => return Err(format!("create_email_identity: {}", aws_sdk_sesv2::error::DisplayErrorContext(e))),
        }
        st.resolved.refs.insert(id.clone(), identity);
    }
    Ok(st)
}

/// Path-style S3 (the stand-in serves every bucket under its own host).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}
