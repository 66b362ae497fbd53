//! Accounts and sessions (API.md, "Auth"): rules, storage, handlers.

pub mod admin;
pub mod handlers;
pub mod passwords;
pub mod rules;
pub mod store;

use common::http::HttpHandler;
use common::http_handler;

/// Every HTTP handler of this crate by its function binary name (template.yaml `Binary`).
pub fn handlers() -> Vec<(&'static str, HttpHandler)> {
    vec![
        ("auth-register", http_handler!(handlers::register)),
        ("auth-login", http_handler!(handlers::login)),
        ("auth-refresh", http_handler!(handlers::refresh)),
        ("auth-logout", http_handler!(handlers::logout)),
        ("auth-me", http_handler!(handlers::me)),
        ("auth-password-forgot", http_handler!(handlers::forgot)),
        ("auth-password-reset", http_handler!(handlers::reset)),
        ("auth-password-change", http_handler!(handlers::change_password)),
    ]
}

/// This crate's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::register,
        handlers::login,
        handlers::refresh,
        handlers::logout,
        handlers::me,
        handlers::forgot,
        handlers::reset,
        handlers::change_password
    ),
    components(schemas(common::api_doc::ErrorBody, common::token::Role)),
    tags((name = "auth", description = "Accounts and sessions: JWT access tokens (15 min) and rotating refresh tokens"))
)]
pub struct Api;
