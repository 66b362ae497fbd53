//! Per-container state: settings read once from the environment and AWS clients created
//! lazily (a function that never touches SES never builds an SES client).

use std::sync::OnceLock;

use aws_config::{BehaviorVersion, SdkConfig};

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
    /// Token signing and verification.
    pub tokens: TokenKeys,
}

impl Settings {
    /// Reads `TABLE_NAME`, `EVENTS_TOPIC_ARN`, `MAIL_FROM`, `JWT_SECRET` (at least 32 bytes),
    /// `JWT_ISSUER`, `JWT_AUDIENCE`. A missing signing key is an error: there is no default.
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
        let secret = var("JWT_SECRET")?;
        let issuer = get("JWT_ISSUER").unwrap_or_else(|| "jobs-platform".into());
        let audience = get("JWT_AUDIENCE").unwrap_or_else(|| "jobs-platform-clients".into());
        Ok(Settings {
            table: var("TABLE_NAME")?,
            events_topic_arn: get("EVENTS_TOPIC_ARN").unwrap_or_default(),
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "no-reply@jobs.example.com".into()),
            tokens: TokenKeys::new(secret.as_bytes(), &issuer, &audience)?,
        })
    }
}

pub struct App {
    pub settings: Settings,
    sdk: SdkConfig,
    dynamo: OnceLock<aws_sdk_dynamodb::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    ses: OnceLock<aws_sdk_sesv2::Client>,
}

impl App {
    pub fn new(settings: Settings, sdk: SdkConfig) -> Self {
        App {
            settings,
            sdk,
            dynamo: OnceLock::new(),
            sns: OnceLock::new(),
            ses: OnceLock::new(),
        }
    }

    /// Settings and AWS configuration from the environment (honours `AWS_ENDPOINT_URL`).
    pub async fn from_env() -> Result<Self, String> {
        let settings = Settings::from_env()?;
        Ok(App::new(settings, load_sdk_config().await))
    }

    pub fn dynamo(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamo.get_or_init(|| aws_sdk_dynamodb::Client::new(&self.sdk))
    }
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        self.sns.get_or_init(|| aws_sdk_sns::Client::new(&self.sdk))
    }
    pub fn ses(&self) -> &aws_sdk_sesv2::Client {
        self.ses.get_or_init(|| aws_sdk_sesv2::Client::new(&self.sdk))
    }
    pub fn table(&self) -> &str {
        &self.settings.table
    }
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
}

/// The standard AWS configuration chain (env credentials, region, `AWS_ENDPOINT_URL`).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
