//! The steps of [`super::provision`], in the order resources depend on each other.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml::Value;

use super::{create_table, err, resolve_deep, s3_client, Stack, ACCOUNT_ID, SEARCH_URL_VAR};
use crate::template::{Resource, Template};

/// Template parameters (given, else their defaults); SNS platform applications have no
/// CloudFormation type: deployed, their ARNs are parameters; locally the stand-in gets one
/// per empty `*PlatformApplicationArn`.
pub(super) async fn parameters(st: &mut Stack, t: &Template, sdk: &SdkConfig, params: &HashMap<String, String>) -> Result<(), String> {
    let prefix = st.prefix.clone();
    let r = &mut st.resolved;
    for (name, default) in &t.parameters {
        let v = params
            .get(name)
            .cloned()
            .or_else(|| default.clone())
            .ok_or(format!("template parameter {name} needs a value"))?;
        r.refs.insert(name.clone(), v);
    }
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
    Ok(())
}

/// Fails on any resource type the local stack does not know, so template.yaml cannot grow a
/// resource the local stack silently lacks.
pub(super) fn known(t: &Template) -> Result<(), String> {
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

    Ok(())
}

/// Everything that needs nothing else first.
pub(super) async fn independent(st: &mut Stack, t: &Template, sdk: &SdkConfig, region: &str) -> Result<(), String> {
    for (id, res) in &t.resources {
        match res.kind.as_str() {
            "AWS::DynamoDB::Table" => table(st, sdk, id, res).await?,
            "AWS::SNS::Topic" => topic(st, sdk, id).await?,
            "AWS::Serverless::HttpApi" => {
                st.resolved.refs.insert(id.clone(), "local".into());
            }
            "AWS::SecretsManager::Secret" => {
                let arn = crate::secrets::create(sdk, id, &res.properties, &st.resolved, &st.local(id)).await?;
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
            "AWS::OpenSearchServerless::Collection" => collection(st, id, region)?,
            "AWS::S3::Bucket" => bucket(st, sdk, id, res, region).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn table(st: &mut Stack, sdk: &SdkConfig, id: &str, res: &Resource) -> Result<(), String> {
    let name = st.local(id);
    let (arn, stream) = create_table(sdk, &name, &res.properties).await?;
    crate::protect::table(sdk, &name, &res.properties).await?;
    st.resolved.refs.insert(id.to_string(), name.clone());
    st.resolved.attrs.insert((id.to_string(), "Arn".into()), arn);
    if let Some(s) = stream {
        st.resolved.attrs.insert((id.to_string(), "StreamArn".into()), s.clone());
        st.stream_arns.insert(id.to_string(), s);
    }
    st.table_names.insert(id.to_string(), name);
    Ok(())
}

async fn topic(st: &mut Stack, sdk: &SdkConfig, id: &str) -> Result<(), String> {
    let out = aws_sdk_sns::Client::new(sdk)
        .create_topic()
        .name(st.local(id))
        .send()
        .await
        .map_err(err("create_topic"))?;
    let arn = out.topic_arn.unwrap_or_default();
    st.resolved.refs.insert(id.to_string(), arn.clone());
    st.resolved.attrs.insert((id.to_string(), "TopicArn".into()), arn.clone());
    st.topic_arns.insert(id.to_string(), arn);
    Ok(())
}

/// The search stand-in (osmem-server, started by the project's scripts) is the collection;
/// its policies are AWS's to enforce. Each stack's indexes carry its prefix
/// (SEARCH_INDEX_PREFIX), so stacks share one stand-in.
fn collection(st: &mut Stack, id: &str, region: &str) -> Result<(), String> {
    let url = std::env::var(SEARCH_URL_VAR).ok().filter(|u| !u.is_empty()).ok_or(format!(
        "resource {id}: {SEARCH_URL_VAR} is not set (make dev and make test start the search stand-in and set it)"
    ))?;
    st.resolved.refs.insert(id.to_string(), st.local(id));
    st.resolved.attrs.insert((id.to_string(), "CollectionEndpoint".into()), url);
    st.resolved.attrs.insert(
        (id.to_string(), "Arn".into()),
        format!("arn:aws:aoss:{region}:{ACCOUNT_ID}:collection/{}", st.local(id)),
    );
    Ok(())
}

async fn bucket(st: &mut Stack, sdk: &SdkConfig, id: &str, res: &Resource, region: &str) -> Result<(), String> {
    // Encryption, public access block, CORS and lifecycle rules are AWS's to
    // enforce; the stand-in gets the bucket and its notifications.
    let name = match res.properties.get("BucketName") {
        Some(v) => st.resolved.resolve(v)?,
        None => st.local(id).to_lowercase(),
    };
    let s3 = s3_client(sdk);
    let mut req = s3.create_bucket().bucket(&name);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    req.send()
        .await
        .map_err(|e| format!("create_bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
    st.resolved.refs.insert(id.to_string(), name.clone());
    st.resolved
        .attrs
        .insert((id.to_string(), "Arn".into()), format!("arn:aws:s3:::{name}"));
    crate::protect::bucket(sdk, &name, &res.properties).await?;
    st.bucket_names.insert(id.to_string(), name);
    Ok(())
}

/// Queues, dead-letter queues before the queues that redrive to them.
pub(super) async fn queues(st: &mut Stack, t: &Template, sqs: &aws_sdk_sqs::Client) -> Result<(), String> {
    let mut queues: Vec<(&String, &Resource)> = t.of_kind("AWS::SQS::Queue").collect();
    queues.sort_by_key(|(_, q)| q.properties.get("RedrivePolicy").is_some());
    for (id, q) in queues {
        let mut req = sqs.create_queue().queue_name(st.local(id));
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
        st.resolved.attrs.insert((id.clone(), "QueueName".into()), st.local(id));
        st.queue_urls.insert(id.clone(), url);
    }

    Ok(())
}

pub(super) async fn queue_policies(st: &Stack, t: &Template, sqs: &aws_sdk_sqs::Client) -> Result<(), String> {
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

    Ok(())
}

pub(super) async fn subscriptions(st: &mut Stack, t: &Template, sdk: &SdkConfig) -> Result<(), String> {
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

    Ok(())
}

/// S3 notifications: one queue per function, one notification configuration per bucket.
pub(super) async fn s3_notifications(st: &mut Stack, t: &Template, sdk: &SdkConfig, sqs: &aws_sdk_sqs::Client) -> Result<(), String> {
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
                .queue_name(st.local(&format!("{}-s3", f.logical_id)))
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
    Ok(())
}

pub(super) async fn mail_identities(st: &mut Stack, t: &Template, sdk: &SdkConfig) -> Result<(), String> {
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
    Ok(())
}
