//! Pieces of the OpenAPI document shared by every domain: the error body and the bearer
//! security scheme. Each domain crate documents its routes with `utoipa::path` on the real
//! handlers and request/response types; crates/devstack merges them into docs/openapi.json.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, ToSchema};

/// The error body of every 4xx and 5xx (API.md, "Errors").
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`, `email_taken`, `invalid_token`.
    pub error: String,
    /// Human-readable text.
    pub message: String,
    /// Field name -> problems with that field (422, 400 `invalid_filter`), or other details:
    /// the statuses or methods `allowed` (409, 405), the `application_id` already sent
    /// (409 `already_applied`); `{}` when none.
    #[schema(schema_with = details)]
    pub details: serde_json::Value,
    /// Also sent as the `x-request-id` header.
    pub request_id: String,
}

/// `details`: a map of texts (or lists of texts).
fn details() -> utoipa::openapi::Schema {
    serde_json::from_value(serde_json::json!({
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": ["string", "null"]}]
        }
    }))
    .expect("a valid schema")
}

/// Registers the `bearer` security scheme (JWT access tokens).
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}
