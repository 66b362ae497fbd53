//! Accounts and sessions (API.md, "Auth"): rules, storage, handlers.

pub mod account;
pub mod admin;
pub mod codes;
pub mod handlers;
pub mod passwords;
pub mod reset;
pub mod rules;
pub mod store;
pub mod verify;

common::functions! {
    openapi(components(schemas(common::api_doc::ErrorBody, common::token::Role)), tags((name = "auth", description = "Accounts and sessions: JWT access tokens (15 min) and rotating refresh tokens")));
    http {
        "auth-register" => handlers::register,
        "auth-login" => handlers::login,
        "auth-refresh" => handlers::refresh,
        "auth-logout" => handlers::logout,
        "auth-me" => handlers::me,
        "auth-password-forgot" => reset::forgot,
        "auth-password-reset" => reset::reset,
        "auth-password-change" => handlers::change_password,
        "auth-email-verify" => verify::verify,
        "auth-email-verify-link" => verify::verify_link,
        "auth-email-resend" => verify::resend,
    }
}
