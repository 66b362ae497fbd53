//! A model of template.yaml: parameters, conditions, resources, functions and their events.
//! The intrinsics that resolve local values are in [`crate::intrinsics`].

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

pub use crate::intrinsics::{intrinsic, target, Intrinsic, Resolved};

#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
    /// The name of the condition that decides whether it exists (`Condition:`).
    pub condition: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: BTreeMap<String, Option<String>>,
    /// `Conditions:` by name (their definitions, evaluated per stack by [`Resolved`]).
    pub conditions: BTreeMap<String, Value>,
    pub resources: BTreeMap<String, Resource>,
    pub globals_env: BTreeMap<String, Value>,
    pub cors: Option<Cors>,
}

#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    /// `AllowOrigins` when it is not a literal list (a `!Ref` to a list parameter): the
    /// local stack resolves it with the parameters.
    pub allow_origins_ref: Option<Value>,
    pub allow_credentials: bool,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionEvent {
    Http {
        method: String,
        path: String,
    },
    Sqs {
        queue: String,
        batch_size: i32,
    },
    Stream {
        table: String,
        batch_size: i32,
    },
    /// An EventBridge schedule (`rate(...)` only); the local stack fires it at that rate.
    Schedule {
        every: std::time::Duration,
        enabled: bool,
    },
    /// S3 notifications of a bucket of this template (the local stack routes them through a
    /// queue of its own and delivers them as S3 events).
    S3 {
        bucket: String,
        events: Vec<String>,
        prefix: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// The crate binary that serves it (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    /// The row of that crate's function table it runs (`Properties.Handler`).
    pub handler: String,
    pub events: Vec<FunctionEvent>,
    /// The function's own `Environment.Variables` (on top of Globals).
    pub env: BTreeMap<String, Value>,
}

/// `rate(5 minutes)` as a duration. A `cron(...)` expression fires hourly locally: the
/// functions on cron schedules act on what is due at the time they run (the alert digests),
/// so running them more often than deployed changes nothing but latency.
pub fn parse_rate(expr: &str) -> Result<std::time::Duration, String> {
    if expr.trim().starts_with("cron(") && expr.trim().ends_with(')') {
        return Ok(std::time::Duration::from_secs(3600));
    }
    let inner = expr
        .trim()
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or(format!("schedule {expr:?}: only rate(...) expressions run locally"))?;
    let (n, unit) = inner
        .trim()
        .split_once(' ')
        .ok_or(format!("schedule {expr:?}: expected rate(<n> <unit>)"))?;
    let n: u64 = n.parse().map_err(|_| format!("schedule {expr:?}: bad number"))?;
    let secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        other => return Err(format!("schedule {expr:?}: unknown unit {other}")),
    };
    if n == 0 {
        return Err(format!("schedule {expr:?}: the rate must be positive"));
    }
    Ok(std::time::Duration::from_secs(n * secs))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Event `name` of function `id`, as the local stack runs it.
fn function_event(id: &str, name: &str, ev: &Value) -> Result<FunctionEvent, String> {
    let kind = ev.get("Type").and_then(Value::as_str).unwrap_or_default();
    let p = ev.get("Properties").cloned().unwrap_or(Value::Null);
    let batch = p.get("BatchSize").and_then(Value::as_i64).unwrap_or(10) as i32;
    Ok(match kind {
        "HttpApi" => FunctionEvent::Http {
            method: p
                .get("Method")
                .and_then(Value::as_str)
                .ok_or(format!("{id}.{name}: no Method"))?
                .to_uppercase(),
            path: p
                .get("Path")
                .and_then(Value::as_str)
                .ok_or(format!("{id}.{name}: no Path"))?
                .to_string(),
        },
        "SQS" => FunctionEvent::Sqs {
            queue: p
                .get("Queue")
                .and_then(target)
                .ok_or(format!("{id}.{name}: Queue must reference a queue of this template"))?,
            batch_size: batch.min(10),
        },
        "DynamoDB" => FunctionEvent::Stream {
            table: p
                .get("Stream")
                .and_then(target)
                .ok_or(format!("{id}.{name}: Stream must reference a table of this template"))?,
            batch_size: batch,
        },
        "S3" => FunctionEvent::S3 {
            bucket: p
                .get("Bucket")
                .and_then(target)
                .ok_or(format!("{id}.{name}: Bucket must reference a bucket of this template"))?,
            events: match p.get("Events") {
                Some(Value::String(e)) => vec![e.clone()],
                Some(v) => strings(v),
                None => return Err(format!("{id}.{name}: no Events")),
            },
            prefix: p
                .get("Filter")
                .and_then(|f| f.get("S3Key"))
                .and_then(|k| k.get("Rules"))
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .find(|r| r.get("Name").and_then(Value::as_str) == Some("prefix"))
                .and_then(|r| r.get("Value"))
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        "Schedule" => FunctionEvent::Schedule {
            every: p
                .get("Schedule")
                .and_then(Value::as_str)
                .ok_or(format!("{id}.{name}: no Schedule"))
                .and_then(|s| parse_rate(s).map_err(|e| format!("{id}.{name}: {e}")))?,
            enabled: p.get("Enabled").and_then(Value::as_bool).unwrap_or(true),
        },
        other => return Err(format!("function {id}: event type {other} is not supported by the local stack")),
    })
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: Value = serde_yaml::from_str(text).map_err(|e| format!("template.yaml: {e}"))?;
        let mut parameters = BTreeMap::new();
        if let Some(ps) = doc.get("Parameters").and_then(Value::as_mapping) {
            for (k, v) in ps {
                let default = v.get("Default").and_then(|d| match d {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
                parameters.insert(k.as_str().unwrap_or_default().to_string(), default);
            }
        }
        let mut resources = BTreeMap::new();
        for (k, v) in doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or("template.yaml has no Resources")?
        {
            let id = k.as_str().ok_or("resource ids are strings")?.to_string();
            let kind = v
                .get("Type")
                .and_then(Value::as_str)
                .ok_or(format!("resource {id} has no Type"))?
                .to_string();
            resources.insert(
                id,
                Resource {
                    kind,
                    properties: v.get("Properties").cloned().unwrap_or(Value::Null),
                    metadata: v.get("Metadata").cloned().unwrap_or(Value::Null),
                    condition: v.get("Condition").and_then(Value::as_str).map(str::to_string),
                },
            );
        }
        let mut globals_env = BTreeMap::new();
        if let Some(vars) = doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
        {
            for (k, v) in vars {
                globals_env.insert(k.as_str().unwrap_or_default().to_string(), v.clone());
            }
        }
        let cors = resources
            .values()
            .find(|r| r.kind == "AWS::Serverless::HttpApi")
            .and_then(|r| r.properties.get("CorsConfiguration"))
            .map(|c| Cors {
                allow_origins: strings(c.get("AllowOrigins").unwrap_or(&Value::Null)),
                allow_origins_ref: c.get("AllowOrigins").filter(|v| !v.is_sequence()).cloned(),
                allow_credentials: c.get("AllowCredentials").and_then(Value::as_bool).unwrap_or(false),
                allow_methods: strings(c.get("AllowMethods").unwrap_or(&Value::Null)),
                allow_headers: strings(c.get("AllowHeaders").unwrap_or(&Value::Null)),
                expose_headers: strings(c.get("ExposeHeaders").unwrap_or(&Value::Null)),
                max_age: c.get("MaxAge").and_then(Value::as_i64),
            });
        let conditions = doc
            .get("Conditions")
            .and_then(Value::as_mapping)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone()))).collect())
            .unwrap_or_default();
        Ok(Template {
            parameters,
            conditions,
            resources,
            globals_env,
            cors,
        })
    }

    /// The template as one stack has it: resources whose condition is false left out.
    pub fn existing(&self, r: &Resolved) -> Template {
        let mut t = self.clone();
        t.resources.retain(|_, res| r.exists(res));
        t
    }

    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }

    pub fn functions(&self) -> Result<Vec<Function>, String> {
        let mut out = Vec::new();
        for (id, r) in self.of_kind("AWS::Serverless::Function") {
            let binary = r
                .metadata
                .get("BuildProperties")
                .and_then(|b| b.get("Binary"))
                .and_then(Value::as_str)
                .ok_or(format!("function {id} has no Metadata.BuildProperties.Binary"))?
                .to_string();
            let handler = r
                .properties
                .get("Handler")
                .and_then(Value::as_str)
                .ok_or(format!("function {id} has no Handler (the row of its crate's function table)"))?
                .to_string();
            let mut events = Vec::new();
            if let Some(evs) = r.properties.get("Events").and_then(Value::as_mapping) {
                for (name, ev) in evs {
                    events.push(function_event(id, name.as_str().unwrap_or_default(), ev)?);
                }
            }
            let mut env = BTreeMap::new();
            if let Some(vars) = r
                .properties
                .get("Environment")
                .and_then(|e| e.get("Variables"))
                .and_then(Value::as_mapping)
            {
                for (k, v) in vars {
                    env.insert(k.as_str().unwrap_or_default().to_string(), v.clone());
                }
            }
            out.push(Function {
                logical_id: id.clone(),
                binary,
                handler,
                events,
                env,
            });
        }
        Ok(out)
    }

    /// The WebSocket API's routes: (route key, handler), read through each
    /// `AWS::ApiGatewayV2::Route`'s `Target` (`integrations/${Integration}`) and the
    /// integration's `IntegrationUri` (`...functions/${Function.Arn}/invocations`).
    pub fn websocket_routes(&self) -> Result<Vec<(String, String)>, String> {
        let sub_refs = |v: &Value| -> Vec<String> {
            let text = match intrinsic(v) {
                Some(Intrinsic::Sub(t)) => t,
                _ => v.as_str().unwrap_or_default().to_string(),
            };
            text.split("${")
                .skip(1)
                .filter_map(|r| r.split_once('}').map(|(name, _)| name.to_string()))
                .collect()
        };
        let functions = self.functions()?;
        let mut routes = Vec::new();
        for (id, r) in self.of_kind("AWS::ApiGatewayV2::Route") {
            let key = r
                .properties
                .get("RouteKey")
                .and_then(Value::as_str)
                .ok_or(format!("route {id}: no RouteKey"))?;
            let integration = r
                .properties
                .get("Target")
                .map(sub_refs)
                .and_then(|refs| refs.into_iter().next())
                .ok_or(format!("route {id}: Target must be !Sub integrations/${{Integration}}"))?;
            let uri = self
                .resources
                .get(&integration)
                .and_then(|i| i.properties.get("IntegrationUri"))
                .ok_or(format!("route {id}: integration {integration} has no IntegrationUri"))?;
            let function = sub_refs(uri)
                .into_iter()
                .find_map(|r| r.strip_suffix(".Arn").map(str::to_string))
                .ok_or(format!("integration {integration}: IntegrationUri names no ${{Function.Arn}}"))?;
            let f = functions
                .iter()
                .find(|f| f.logical_id == function)
                .ok_or(format!("integration {integration}: {function} is not a function of this template"))?;
            routes.push((key.to_string(), f.handler.clone()));
        }
        Ok(routes)
    }

    /// Every HTTP route: (method, path, handler).
    pub fn http_routes(&self) -> Result<Vec<(String, String, String)>, String> {
        let mut routes = Vec::new();
        for f in self.functions()? {
            for e in &f.events {
                if let FunctionEvent::Http { method, path } = e {
                    routes.push((method.clone(), path.clone(), f.handler.clone()));
                }
            }
        }
        Ok(routes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = r#"
Parameters:
  Secret:
    Type: String
  Mail:
    Type: String
    Default: a@b.co
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        X: plain
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Q:
    Type: AWS::SQS::Queue
  F:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: f-bin
    Properties:
      Handler: f-one
      Events:
        A:
          Type: HttpApi
          Properties:
            Method: get
            Path: /x/{id}
        B:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
            BatchSize: 50
        C:
          Type: DynamoDB
          Properties:
            Stream: {"Fn::GetAtt": [Table, StreamArn]}
"#;

    #[test]
    fn parses_functions_events_and_parameters() {
        let t = Template::parse(T).unwrap();
        assert_eq!(t.parameters["Secret"], None);
        assert_eq!(t.parameters["Mail"].as_deref(), Some("a@b.co"));
        let f = &t.functions().unwrap()[0];
        assert_eq!(f.binary, "f-bin");
        assert_eq!(f.handler, "f-one");
        assert!(f.events.contains(&FunctionEvent::Http {
            method: "GET".into(),
            path: "/x/{id}".into()
        }));
        assert!(f.events.contains(&FunctionEvent::Sqs {
            queue: "Q".into(),
            batch_size: 10
        }));
        assert!(f.events.contains(&FunctionEvent::Stream {
            table: "Table".into(),
            batch_size: 10
        }));
        assert_eq!(target(&t.globals_env["TABLE_NAME"]).as_deref(), Some("Table"));
    }

    #[test]
    fn resolves_intrinsics() {
        let mut r = Resolved::default();
        r.refs.insert("Table".into(), "dev-Table".into());
        r.refs.insert("AWS::Region".into(), "us-east-1".into());
        r.attrs.insert(("Q".into(), "Arn".into()), "arn:q".into());
        let v: Value = serde_yaml::from_str("!Sub arn:${AWS::Region}:${Table}:${Q.Arn}").unwrap();
        assert_eq!(r.resolve(&v).unwrap(), "arn:us-east-1:dev-Table:arn:q");
        let v: Value = serde_yaml::from_str("!Ref Missing").unwrap();
        assert!(r.resolve(&v).is_err());
    }

    #[test]
    fn conditions_decide_resources_and_values() {
        let text = r#"
Parameters:
  Domain:
    Type: String
    Default: ""
Conditions:
  Own: !Equals [!Ref Domain, ""]
Resources:
  Coll:
    Type: AWS::OpenSearchServerless::Collection
    Condition: Own
  Fn:
    Type: AWS::SQS::Queue
"#;
        let t = Template::parse(text).unwrap();
        let v: Value = serde_yaml::from_str("!If [Own, !GetAtt Coll.CollectionEndpoint, !Ref Domain]").unwrap();
        for (domain, own) in [("", true), ("https://search.example", false)] {
            let mut r = Resolved::default();
            r.refs.insert("Domain".into(), domain.into());
            r.attrs.insert(("Coll".into(), "CollectionEndpoint".into()), "http://local".into());
            r.evaluate_conditions(&t.conditions).unwrap();
            assert_eq!(r.conditions["Own"], own);
            assert_eq!(t.existing(&r).resources.contains_key("Coll"), own);
            assert!(t.existing(&r).resources.contains_key("Fn"));
            assert_eq!(r.resolve(&v).unwrap(), if own { "http://local" } else { domain });
        }
    }

    #[test]
    fn schedule_rates() {
        assert_eq!(parse_rate("rate(5 minutes)").unwrap().as_secs(), 300);
        assert_eq!(parse_rate("rate(1 hour)").unwrap().as_secs(), 3600);
        assert_eq!(
            parse_rate("cron(0 8 * * ? *)").unwrap().as_secs(),
            3600,
            "cron fires hourly locally"
        );
        assert!(parse_rate("cron(0 8").is_err());
        assert!(parse_rate("rate(0 minutes)").is_err());
        assert!(parse_rate("rate(5 fortnights)").is_err());
    }

    #[test]
    fn unsupported_event_types_are_errors() {
        let t = Template::parse(&T.replace("Type: SQS", "Type: Kinesis")).unwrap();
        assert!(t.functions().unwrap_err().contains("Kinesis"));
    }
}
