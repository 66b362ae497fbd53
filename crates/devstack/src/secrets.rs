//! `AWS::SecretsManager::Secret` in the stand-in: created with the value CloudFormation
//! would generate (`GenerateSecretString`, through Secrets Manager's own generator) or the
//! given `SecretString`. `Ref` is the secret's ARN, as deployed.

use aws_config::SdkConfig;
use serde_yaml::Value;

use crate::template::Resolved;

const GENERATE_KEYS: &[&str] = &[
    "SecretStringTemplate",
    "GenerateStringKey",
    "PasswordLength",
    "ExcludePunctuation",
    "ExcludeCharacters",
    "IncludeSpace",
];

fn sm_err(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> String {
    format!("{what}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e))
}

/// Creates the secret (or finds it, if a stack of this prefix made it before) and returns
/// its ARN.
pub async fn create(sdk: &SdkConfig, id: &str, props: &Value, r: &Resolved, default_name: &str) -> Result<String, String> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let name = match props.get("Name") {
        Some(v) => r.resolve(v)?,
        None => default_name.to_string(),
    };
    let value = match (props.get("SecretString"), props.get("GenerateSecretString")) {
        (Some(v), None) => r.resolve(v)?,
        (None, Some(g)) => generate(&client, id, g).await?,
        _ => return Err(format!("{id}: give SecretString or GenerateSecretString")),
    };
    match client.create_secret().name(&name).secret_string(value).send().await {
        Ok(out) => Ok(out.arn.unwrap_or_default()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {
            let out = client
                .describe_secret()
                .secret_id(&name)
                .send()
                .await
                .map_err(|e| sm_err("describe_secret", e))?;
            Ok(out.arn.unwrap_or_default())
        }
        Err(e) => Err(sm_err(&format!("create_secret {name}"), e)),
    }
}

/// The value `GenerateSecretString` makes: a generated string, alone or as one more field
/// of `SecretStringTemplate`.
async fn generate(client: &aws_sdk_secretsmanager::Client, id: &str, g: &Value) -> Result<String, String> {
    if let Value::Mapping(m) = g {
        for k in m.keys().filter_map(Value::as_str) {
            if !GENERATE_KEYS.contains(&k) {
                return Err(format!("{id}: GenerateSecretString.{k} is not supported by the local stack"));
            }
        }
    }
    let mut req = client.get_random_password();
    if let Some(n) = g.get("PasswordLength").and_then(Value::as_i64) {
        req = req.password_length(n);
    }
    if let Some(b) = g.get("ExcludePunctuation").and_then(Value::as_bool) {
        req = req.exclude_punctuation(b);
    }
    if let Some(c) = g.get("ExcludeCharacters").and_then(Value::as_str) {
        req = req.exclude_characters(c);
    }
    req = req.include_space(g.get("IncludeSpace").and_then(Value::as_bool).unwrap_or(false));
    let generated = req
        .send()
        .await
        .map_err(|e| sm_err("get_random_password", e))?
        .random_password
        .ok_or("the generator returned nothing")?;
    match (
        g.get("SecretStringTemplate").and_then(Value::as_str),
        g.get("GenerateStringKey").and_then(Value::as_str),
    ) {
        (Some(template), Some(key)) => {
            let mut v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(template).map_err(|e| format!("{id}: SecretStringTemplate is not a JSON object: {e}"))?;
            v.insert(key.to_string(), generated.into());
            Ok(serde_json::Value::Object(v).to_string())
        }
        (None, None) => Ok(generated),
        _ => Err(format!("{id}: SecretStringTemplate and GenerateStringKey go together")),
    }
}
