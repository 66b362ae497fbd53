//! The one error type of the platform and its mapping to HTTP (API.md, "Errors").
//!
//! Handlers return `Result<_, ApiError>`; `http::finish` turns an error into the JSON error
//! body with the request id. Internal causes are logged there and never sent to clients.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use http::StatusCode;

/// Field name -> human readable problems with that field.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine readable code clients can branch on.
    pub code: &'static str,
    pub message: Cow<'static, str>,
    pub details: Option<serde_json::Value>,
    /// Seconds, sent as `Retry-After` (429).
    pub retry_after: Option<u64>,
    /// The internal cause, logged, never returned.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn too_large(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }
    pub fn too_many_requests(retry_after_secs: u64, message: impl Into<Cow<'static, str>>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }
    /// 422 with per-field problems.
    pub fn validation(fields: FieldErrors) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "some fields are invalid");
        e.details = Some(serde_json::to_value(fields).unwrap_or_default());
        e
    }
    /// 422 for a single field.
    pub fn invalid_field(field: &str, problem: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(field.to_string(), vec![problem.into()]);
        Self::validation(f)
    }
    /// 500; the cause is logged by the response mapper, the client sees a generic text.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side");
        e.source = Some(cause.into());
        e
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The JSON error body of API.md.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        serde_json::json!({
            "error": self.code,
            "message": self.message,
            "details": self.details.clone().unwrap_or_else(|| serde_json::json!({})),
            "request_id": request_id,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)?;
        if let Some(s) = &self.source {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Any SDK failure (DynamoDB, S3, ...: one `SdkError` type) is internal unless a caller maps
/// it first (conditional checks are mapped where they carry meaning).
impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for ApiError
where
    E: std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    fn from(e: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        ApiError::internal(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
    }
}

impl From<serde_dynamo::Error> for ApiError {
    fn from(e: serde_dynamo::Error) -> Self {
        ApiError::internal(e)
    }
}

/// Collects per-field problems so a client sees all of them at once.
#[derive(Default)]
pub struct Problems(FieldErrors);

impl Problems {
    pub fn check<T>(&mut self, field: &str, r: Result<T, &'static str>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(p) => {
                self.0.entry(field.to_string()).or_default().push(p.to_string());
                None
            }
        }
    }
    pub fn add(&mut self, field: &str, problem: &str) {
        self.0.entry(field.to_string()).or_default().push(problem.to_string());
    }
    /// The 422 of the problems found: for the `else` of a `let (Some(a), Some(b), ..) = ..`
    /// over checked values (a value is missing only because its check recorded why).
    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.0)
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
