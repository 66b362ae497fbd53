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
        "auth-register" => handlers::register: table(&[Get, Put, Update, Delete, ConditionCheck]).memory(512),
        "auth-login" => handlers::login: table(&[Get, Put, Update, Delete]).memory(512),
        "auth-refresh" => handlers::refresh: table(&[Get, Update]),
        "auth-logout" => handlers::logout: table(&[Update]),
        "auth-me" => handlers::me: table(&[Get]),
        "auth-password-forgot" => reset::forgot: table(&[Put]),
        "auth-password-reset" => reset::reset: table(&[Get, Put, Update, Delete]).memory(512),
        "auth-password-change" => handlers::change_password: table(&[Get, Put, Update, Delete]).memory(512),
        "auth-email-verify" => verify::verify: table(&[Get, Update, Delete]),
        "auth-email-verify-link" => verify::verify_link: table(&[Get, Update, Delete]),
        "auth-email-resend" => verify::resend: table(&[Put]),
    }
}
