//! Per-container state: settings read once from the environment and AWS clients created
//! lazily (a function that never touches SES never builds an SES client).
//!
//! In a Lambda the SDK configuration itself is built on first use, straight from the
//! variables Lambda sets (region, the execution role's credentials) and `AWS_ENDPOINT_URL`,
//! without aws-config's provider chains: nothing at init, and a function that never calls
//! AWS links no AWS client code at all. Tools and tests pass a configuration from
//! aws-config instead (`App::new`).

use std::sync::{Arc, OnceLock, RwLock};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_types::SdkConfig;

use crate::fields::FieldKeys;
use crate::token::TokenKeys;

/// Everything a function needs to know about its deployment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The single DynamoDB table.
    pub table: String,
    /// ARN of the domain-events SNS topic (only the relay publishes).
    pub events_topic_arn: String,
    /// Verified SES sender.
    pub mail_from: String,
    /// Issuer and audience of tokens (`JWT_ISSUER`, `JWT_AUDIENCE`).
    pub issuer: String,
    pub audience: String,
    /// The secret holding the token signing keys (`SIGNING_KEYS_SECRET`, an ARN or name);
    /// only functions that sign, verify or derive keys get it.
    pub signing_keys_secret: Option<String>,
    /// The secret holding the field-encryption keys (`FIELD_KEYS_SECRET`); only functions
    /// that seal or open personal data get it.
    pub field_keys_secret: Option<String>,
    /// The S3 bucket of uploaded files (`UPLOADS_BUCKET`), for the functions that handle them.
    pub uploads_bucket: Option<String>,
    /// The search engine, for the functions that search or index.
    pub search: Option<SearchSettings>,
    /// `PUBLIC_API_URL`: the API's public base URL, for links in emails.
    pub public_url: String,
    /// SNS platform applications for push: `PUSH_APNS_APP_ARN` (ios), `PUSH_FCM_APP_ARN`
    /// (android and web).
    pub push_apns_app: Option<String>,
    pub push_fcm_app: Option<String>,
    /// `LIVE_ENDPOINT`: the WebSocket API's management endpoint
    /// (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`), for live notifications.
    pub live_endpoint: Option<String>,
    /// `ANALYTICS_QUEUE_URL`: the analytics ingest queue, for the functions that record
    /// client events and searches.
    pub analytics_queue_url: Option<String>,
    /// Budgets of the HTTP API (`RATE_LIMIT_*`); `None`: no limits.
    pub rate_limits: Option<crate::ratelimit::RateLimits>,
    /// How much of each thing an account or company may have (`QUOTA_*`).
    pub quotas: crate::quota::Quotas,
}

/// Where the OpenSearch endpoint is and how requests to it are signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchSettings {
    /// `SEARCH_ENDPOINT`: the collection's (or domain's) URL.
    pub endpoint: String,
    /// `SEARCH_SERVICE`: the SigV4 service name, `aoss` (Serverless, default) or `es`.
    pub service: String,
    /// `SEARCH_INDEX_PREFIX`: index names start with it (one stack's indexes).
    pub index_prefix: String,
}

impl Settings {
    /// Reads `TABLE_NAME` (required) and the optional settings; key material is not in the
    /// environment (see [`crate::secrets`]).
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The same from any source of variables (the local gateway resolves template.yaml's).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |k: &str| {
            get(k)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("environment variable {k} is not set"))
        };
        Ok(Settings {
            table: var("TABLE_NAME")?,
            events_topic_arn: get("EVENTS_TOPIC_ARN").unwrap_or_default(),
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "no-reply@jobs.example.com".into()),
            issuer: get("JWT_ISSUER").unwrap_or_else(|| "jobs-platform".into()),
            audience: get("JWT_AUDIENCE").unwrap_or_else(|| "jobs-platform-clients".into()),
            signing_keys_secret: get("SIGNING_KEYS_SECRET").filter(|s| !s.is_empty()),
            field_keys_secret: get("FIELD_KEYS_SECRET").filter(|s| !s.is_empty()),
            uploads_bucket: get("UPLOADS_BUCKET").filter(|b| !b.is_empty()),
            public_url: get("PUBLIC_API_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into()),
            push_apns_app: get("PUSH_APNS_APP_ARN").filter(|a| !a.is_empty()),
            push_fcm_app: get("PUSH_FCM_APP_ARN").filter(|a| !a.is_empty()),
            live_endpoint: get("LIVE_ENDPOINT").filter(|e| !e.is_empty()),
            analytics_queue_url: get("ANALYTICS_QUEUE_URL").filter(|e| !e.is_empty()),
            rate_limits: crate::ratelimit::RateLimits::from_lookup(&get)?,
            quotas: crate::quota::Quotas::from_lookup(&get)?,
            search: get("SEARCH_ENDPOINT").filter(|e| !e.is_empty()).map(|endpoint| SearchSettings {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                service: get("SEARCH_SERVICE").filter(|s| !s.is_empty()).unwrap_or_else(|| "aoss".into()),
                index_prefix: get("SEARCH_INDEX_PREFIX")
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "jobs".into())
                    .to_lowercase(),
            }),
        })
    }
}

pub struct App {
    pub settings: Settings,
    sdk: OnceLock<SdkConfig>,
    dynamo: OnceLock<aws_sdk_dynamodb::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    ses: OnceLock<aws_sdk_sesv2::Client>,
    s3: OnceLock<aws_sdk_s3::Client>,
    live: OnceLock<Option<aws_sdk_apigatewaymanagement::Client>>,
    secrets: OnceLock<aws_sdk_secretsmanager::Client>,
    keys: RwLock<Keys>,
    refreshing: tokio::sync::Mutex<()>,
    rate_cache: crate::ratelimit::Exhausted,
    dynamo_calls: DynamoCalls,
}

/// Counts this container's DynamoDB calls by operation (an SDK interceptor): what a route
/// costs, counted rather than estimated (the tests and the bench read it).
#[derive(Clone, Debug, Default)]
pub struct DynamoCalls(Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>);

impl DynamoCalls {
    /// The calls so far, by operation (`GetItem`, `Query`, ...).
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for DynamoCalls {
    fn name(&self) -> &'static str {
        "DynamoCalls"
    }
    fn read_after_serialization(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let op = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unnamed".into());
        if let Ok(mut m) = self.0.lock() {
            *m.entry(op).or_default() += 1;
        }
        Ok(())
    }
}

/// The key rings this container holds, and when they were fetched.
#[derive(Default)]
struct Keys {
    tokens: Option<Arc<TokenKeys>>,
    fields: Option<Arc<FieldKeys>>,
    /// Unix seconds of the last fetch (or failed attempt); `None`: never.
    fetched_at: Option<i64>,
}

impl App {
    /// With a ready SDK configuration (tools, tests, the local gateway).
    pub fn new(settings: Settings, sdk: SdkConfig) -> Self {
        let app = App::lazy(settings);
        let _ = app.sdk.set(sdk);
        app
    }

    /// Settings from the environment now; the SDK configuration from it on first use.
    pub fn from_env() -> Result<Self, String> {
        Ok(App::lazy(Settings::from_env()?))
    }

    /// With these settings; the SDK configuration from the environment on first use (unit
    /// tests of code that renders or seals without calling AWS).
    pub fn with_settings(settings: Settings) -> Self {
        App::lazy(settings)
    }

    fn lazy(settings: Settings) -> Self {
        App {
            settings,
            sdk: OnceLock::new(),
            dynamo: OnceLock::new(),
            sns: OnceLock::new(),
            sqs: OnceLock::new(),
            ses: OnceLock::new(),
            s3: OnceLock::new(),
            live: OnceLock::new(),
            secrets: OnceLock::new(),
            keys: Default::default(),
            refreshing: Default::default(),
            rate_cache: Default::default(),
            dynamo_calls: Default::default(),
        }
    }

    pub fn dynamo(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamo.get_or_init(|| {
            let conf = aws_sdk_dynamodb::config::Builder::from(self.sdk_config())
                .interceptor(self.dynamo_calls.clone())
                .interceptor(crate::access::Enforce);
            aws_sdk_dynamodb::Client::from_conf(conf.build())
        })
    }
    /// This container's DynamoDB calls so far.
    pub fn dynamo_calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.dynamo_calls.snapshot()
    }
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        self.sns.get_or_init(|| aws_sdk_sns::Client::new(self.sdk_config()))
    }
    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.get_or_init(|| aws_sdk_sqs::Client::new(self.sdk_config()))
    }
    pub fn ses(&self) -> &aws_sdk_sesv2::Client {
        self.ses.get_or_init(|| aws_sdk_sesv2::Client::new(self.sdk_config()))
    }
    /// Path-style addressing when an endpoint is configured (the local stand-in serves
    /// buckets under its own host).
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            let sdk = self.sdk_config();
            let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some());
            aws_sdk_s3::Client::from_conf(conf.build())
        })
    }
    /// The WebSocket API's management client (PostToConnection), at `LIVE_ENDPOINT`; `None`
    /// where the function has no WebSocket API to talk to.
    pub fn live(&self) -> Option<&aws_sdk_apigatewaymanagement::Client> {
        self.live
            .get_or_init(|| {
                let endpoint = self.settings.live_endpoint.as_deref()?;
                let conf = aws_sdk_apigatewaymanagement::config::Builder::from(self.sdk_config()).endpoint_url(endpoint);
                Some(aws_sdk_apigatewaymanagement::Client::from_conf(conf.build()))
            })
            .as_ref()
    }
    /// Callers this container knows to be over a rate limit in the current window.
    pub fn rate_cache(&self) -> &crate::ratelimit::Exhausted {
        &self.rate_cache
    }
    /// The uploads bucket; a function handling files without it is misconfigured (500, logged).
    pub fn uploads_bucket(&self) -> crate::ApiResult<&str> {
        self.settings
            .uploads_bucket
            .as_deref()
            .ok_or_else(|| crate::ApiError::internal("UPLOADS_BUCKET is not configured"))
    }
    pub fn table(&self) -> &str {
        &self.settings.table
    }
    pub fn secrets_manager(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets.get_or_init(|| aws_sdk_secretsmanager::Client::new(self.sdk_config()))
    }
    /// The token signing keys; a function that signs or verifies without them is
    /// misconfigured (500, logged).
    pub fn tokens(&self) -> crate::ApiResult<Arc<TokenKeys>> {
        self.held()
            .tokens
            .clone()
            .ok_or_else(|| crate::ApiError::internal("the signing keys are not loaded (SIGNING_KEYS_SECRET)"))
    }
    /// The field encryption keys; a function that stores personal data without them is
    /// misconfigured (500, logged).
    pub fn field_keys(&self) -> crate::ApiResult<Arc<FieldKeys>> {
        self.held()
            .fields
            .clone()
            .ok_or_else(|| crate::ApiError::internal("the field keys are not loaded (FIELD_KEYS_SECRET)"))
    }
    /// The keys held (a lock poisoned by a panic still holds whole `Arc`s).
    fn held(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }
    fn held_mut(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.keys.write().unwrap_or_else(|p| p.into_inner())
    }
    /// Holds these keys instead of fetching any (tools and unit tests).
    pub fn set_keys(&self, tokens: Option<TokenKeys>, fields: Option<FieldKeys>) {
        *self.held_mut() = Keys {
            tokens: tokens.map(Arc::new),
            fields: fields.map(Arc::new),
            fetched_at: Some(i64::MAX),
        };
    }
    /// Fetches the key rings this function is given (`SIGNING_KEYS_SECRET`,
    /// `FIELD_KEYS_SECRET`) when it has none or they are older than
    /// [`crate::secrets::REFRESH_SECS`]. Called before each invocation; costs nothing
    /// between refreshes. A failed refresh keeps the keys it has (and retries within
    /// a minute); with none it is an error.
    pub async fn refresh_secrets(&self) -> Result<(), String> {
        self.fetch_secrets(false).await
    }
    /// Fetches the key rings now, due or not (tools and tests that rotate).
    pub async fn reload_secrets(&self) -> Result<(), String> {
        self.fetch_secrets(true).await
    }
    async fn fetch_secrets(&self, force: bool) -> Result<(), String> {
        let now = crate::time::now_secs();
        let due = |k: &Keys| force || k.fetched_at.is_none_or(|at| now.saturating_sub(at) >= crate::secrets::REFRESH_SECS);
        if self.settings.signing_keys_secret.is_none() && self.settings.field_keys_secret.is_none() {
            return Ok(());
        }
        if !due(&self.held()) {
            return Ok(());
        }
        let _one = self.refreshing.lock().await;
        if !force && !due(&self.held()) {
            return Ok(());
        }
        match self.fetch_keys().await {
            Ok((tokens, fields)) => {
                *self.held_mut() = Keys {
                    tokens: tokens.map(Arc::new),
                    fields: fields.map(Arc::new),
                    fetched_at: Some(now),
                };
                Ok(())
            }
            Err(e) => {
                let mut k = self.held_mut();
                if k.tokens.is_none() && k.fields.is_none() {
                    return Err(e);
                }
                tracing::warn!(error = %e, "refreshing the key rings failed; keeping the ones held");
                k.fetched_at = Some(now - crate::secrets::REFRESH_SECS + 60);
                Ok(())
            }
        }
    }
    async fn fetch_keys(&self) -> Result<(Option<TokenKeys>, Option<FieldKeys>), String> {
        let client = self.secrets_manager();
        let (signing, fields) = futures::join!(
            async {
                match &self.settings.signing_keys_secret {
                    Some(id) => crate::secrets::fetch(client, id).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match &self.settings.field_keys_secret {
                    Some(id) => crate::secrets::fetch(client, id).await.map(Some),
                    None => Ok(None),
                }
            }
        );
        let tokens = signing?
            .map(|r| TokenKeys::from_ring(&r, &self.settings.issuer, &self.settings.audience))
            .transpose()?;
        Ok((tokens, fields?.map(|r| FieldKeys::from_ring(&r))))
    }
    /// Seals and opens pagination cursors (key derived from the signing secret).
    pub fn cursors(&self) -> crate::ApiResult<crate::cursor::CursorCodec> {
        Ok(crate::cursor::CursorCodec::new(self.tokens()?.derive_key("pagination-cursor")))
    }
    pub fn sdk_config(&self) -> &SdkConfig {
        self.sdk.get_or_init(|| sdk_config_from_env(|k| std::env::var(k).ok()))
    }
}

/// The SDK configuration of a Lambda function: region from `AWS_REGION`, the execution role's
/// credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (Lambda
/// sets them for the life of the execution environment), endpoint from `AWS_ENDPOINT_URL`.
pub fn sdk_config_from_env(get: impl Fn(&str) -> Option<String>) -> SdkConfig {
    let var = |k: &str| get(k).filter(|v| !v.is_empty());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .time_source(aws_smithy_async::time::SharedTimeSource::new(
            aws_smithy_async::time::SystemTimeSource::new(),
        ));
    if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
        b = b.sleep_impl(sleep);
    }
    if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let creds = Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "lambda-environment");
        b = b.credentials_provider(SharedCredentialsProvider::new(creds));
    }
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        b = b.endpoint_url(url);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_sdk_configuration_comes_from_the_environment() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("eu-west-1".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AKIA".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:4566".to_string()),
            _ => None,
        };
        let c = sdk_config_from_env(env);
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(c.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert!(c.credentials_provider().is_some());
        let bare = sdk_config_from_env(|_| None);
        assert_eq!(bare.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert!(bare.endpoint_url().is_none());
    }

    #[test]
    fn settings_need_a_table_and_name_secrets_not_keys() {
        let base = |k: &str| match k {
            "TABLE_NAME" => Some("t".to_string()),
            "SIGNING_KEYS_SECRET" => Some("arn:aws:secretsmanager:eu-west-1:1:secret:s".to_string()),
            _ => None,
        };
        let s = Settings::from_lookup(base).unwrap();
        assert_eq!(
            s.signing_keys_secret.as_deref(),
            Some("arn:aws:secretsmanager:eu-west-1:1:secret:s")
        );
        assert_eq!(s.field_keys_secret, None);
        assert!(Settings::from_lookup(|k| if k == "TABLE_NAME" { None } else { base(k) }).is_err());
    }

    #[tokio::test]
    async fn a_function_given_no_secret_fetches_none_and_holds_no_keys() {
        let app = App::with_settings(Settings::from_lookup(|k| (k == "TABLE_NAME").then(|| "t".to_string())).unwrap());
        app.refresh_secrets().await.unwrap();
        assert!(app.tokens().is_err());
        assert!(app.field_keys().is_err());
        assert!(app.secrets.get().is_none(), "no Secrets Manager client was built");
    }
}
