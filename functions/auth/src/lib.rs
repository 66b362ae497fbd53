//! Accounts and sessions (API.md, "Auth"): rules, storage, handlers.

pub mod account;
pub mod admin;
pub mod handlers;
pub mod passwords;
pub mod rules;
pub mod store;

common::functions! {
    openapi(components(schemas(common::api_doc::ErrorBody, common::token::Role)), tags((name = "auth", description = "Accounts and sessions: JWT access tokens (15 min) and rotating refresh tokens")));
    http {
        "auth-register" => handlers::register,
        "auth-login" => handlers::login,
        "auth-refresh" => handlers::refresh,
        "auth-logout" => handlers::logout,
        "auth-me" => handlers::me,
        "auth-password-forgot" => handlers::forgot,
        "auth-password-reset" => handlers::reset,
        "auth-password-change" => handlers::change_password,
    }
}
