//! Creates a template's resources in the AWS stand-in, named `<prefix>-<LogicalId>`, so each
//! local stack (the dev stack, each test) is isolated. Fails on any resource type it does
//! not know, so template.yaml cannot grow a resource the local stack silently lacks.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde_yaml::Value;

use crate::template::{Resolved, Template};

mod steps;

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
    /// The stand-in's name of resource `id`: `<prefix>-<id>`.
    fn local(&self, id: &str) -> String {
        format!("{}-{id}", self.prefix)
    }

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
    steps::parameters(&mut st, t, sdk, params).await?;
    st.resolved.evaluate_conditions(&t.conditions)?;
    let existing = t.existing(&st.resolved);
    let t = &existing;
    steps::known(t)?;
    steps::independent(&mut st, t, sdk, &region).await?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    steps::queues(&mut st, t, &sqs).await?;
    steps::queue_policies(&st, t, &sqs).await?;
    steps::subscriptions(&mut st, t, sdk).await?;
    steps::s3_notifications(&mut st, t, sdk, &sqs).await?;
    steps::mail_identities(&mut st, t, sdk).await?;
    Ok(st)
}

/// Path-style S3 (the stand-in serves every bucket under its own host).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}
