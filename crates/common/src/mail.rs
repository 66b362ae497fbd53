//! Email through SES (v2): every message has a text and an HTML body rendered from the
//! template files in `crates/common/templates/email` (minijinja; HTML auto-escaped), plus
//! headers such as `List-Unsubscribe`. Locally the stand-in records every message it accepts.

use std::sync::OnceLock;

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};
use minijinja::Environment;
use serde::Serialize;

use crate::app::App;

/// The template files, compiled into the binary (no file reads at run time).
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/email/layout.html")),
    ("notification.html", include_str!("../templates/email/notification.html")),
    ("notification.txt", include_str!("../templates/email/notification.txt")),
    ("job_alert.html", include_str!("../templates/email/job_alert.html")),
    ("job_alert.txt", include_str!("../templates/email/job_alert.txt")),
    ("welcome.html", include_str!("../templates/email/welcome.html")),
    ("welcome.txt", include_str!("../templates/email/welcome.txt")),
    ("reset_code.html", include_str!("../templates/email/reset_code.html")),
    ("reset_code.txt", include_str!("../templates/email/reset_code.txt")),
    ("verify_code.html", include_str!("../templates/email/verify_code.html")),
    ("verify_code.txt", include_str!("../templates/email/verify_code.txt")),
    ("invitation.html", include_str!("../templates/email/invitation.html")),
    ("invitation.txt", include_str!("../templates/email/invitation.txt")),
];

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` templates escape every value (minijinja's default by file name); `.txt` do not.
        let syntax = minijinja::syntax::SyntaxConfig::builder().keep_trailing_newline(true).build();
        env.set_syntax(syntax.expect("the default syntax with trailing newlines kept"));
        env.add_filter("nolink", nolink);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("email template {name}: {e}"));
        }
        env
    })
}

/// `nolink`, for what users wrote (names, titles, places): a zero-width space after each
/// `.`, `@` and `/` that a letter or digit follows and each `:` before one or a `/`, so no mail client turns
/// `evil.example` or `a@b.example` into a link, in the text part or the HTML. It reads the
/// same.
pub fn nolink(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let breaks = match c {
            '.' | '@' | '/' => chars.peek().is_some_and(|n| n.is_alphanumeric()),
            ':' => chars.peek().is_some_and(|n| *n == '/' || n.is_alphanumeric()),
            _ => false,
        };
        if breaks {
            out.push('\u{200B}');
        }
    }
    out
}

/// One email, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
}

/// Renders `<template>.txt` and `<template>.html` with `context` (which should carry
/// `subject` and the footer's `reason`, and `unsubscribe_url` when the email has one).
/// With an unsubscribe URL the email gets the RFC 8058 one-click headers.
pub fn render<C: Serialize>(template: &str, to: &str, subject: &str, context: &C) -> Result<Email, String> {
    let ctx = minijinja::Value::from(minijinja::value::Serde(context));
    let ctx = minijinja::context! { subject => subject, ..ctx };
    let body = |ext: &str| {
        templates()
            .get_template(&format!("{template}.{ext}"))
            .and_then(|t| t.render(ctx.clone()))
            .map_err(|e| format!("rendering email {template}.{ext}: {e}"))
    };
    let mut headers = Vec::new();
    if let Some(url) = ctx.get_attr("unsubscribe_url").ok().filter(|v| !v.is_none() && !v.is_undefined()) {
        headers.push(("List-Unsubscribe".to_string(), format!("<{url}>")));
        headers.push(("List-Unsubscribe-Post".to_string(), "List-Unsubscribe=One-Click".to_string()));
    }
    Ok(Email {
        to: to.to_string(),
        subject: subject.to_string(),
        text: body("txt")?,
        html: body("html")?,
        headers,
    })
}

fn content(text: &str) -> Result<Content, String> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| e.to_string())
}

/// `text` as one header line: whatever validation missed, no field can start a header of
/// its own (line breaks and other controls become spaces).
pub fn one_line(text: &str) -> String {
    text.chars().map(|c| if crate::values::breaks_line(c) { ' ' } else { c }).collect()
}

/// The SES message of an email: subject, both bodies, the extra headers.
pub fn message(email: &Email) -> Result<Message, String> {
    let mut message = Message::builder()
        .subject(content(&one_line(&email.subject))?)
        .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build());
    for (name, value) in &email.headers {
        message = message.headers(
            MessageHeader::builder()
                .name(name)
                .value(one_line(value))
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(message.build())
}

pub async fn send(app: &App, email: &Email) -> Result<(), String> {
    app.ses()
        .send_email()
        .from_email_address(&app.settings.mail_from)
        .destination(Destination::builder().to_addresses(&email.to).build())
        .content(EmailContent::builder().simple(message(email)?).build())
        .send()
        .await
        .map_err(|e| aws_sdk_sesv2::error::DisplayErrorContext(e).to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_users_wrote_never_becomes_a_link() {
        assert_eq!(nolink("evil.example"), "evil.\u{200B}example");
        assert_eq!(nolink("Dr. J. Smith, a@b.co"), "Dr. J. Smith, a@\u{200B}b.\u{200B}co");
        assert_eq!(nolink("https://x"), "https:\u{200B}//\u{200B}x");
        assert_eq!(nolink("Time: 10:30. Done"), "Time: 10:\u{200B}30. Done");
        let ctx = serde_json::json!({
            "name": "visit evil.example", "body": "from https://evil.example/x", "reason": "r",
            "search_name": "win at prize.example", "company_name": "shop.example",
            "jobs": [{"title": "see jobs.example", "company_name": "co.example", "city": "a.example", "country": "DE", "job_id": "j1"}],
            "next_step": "", "code": "1", "minutes": 1, "hours": 1, "verify_url": "https://api.example/v", "role": "member",
        });
        for t in ["notification", "job_alert", "welcome", "verify_code", "invitation"] {
            let e = render(t, "a@b.co", "Hello from subject.example", &ctx).unwrap();
            for part in [&e.text, &e.html] {
                for host in [
                    "evil.example",
                    "prize.example",
                    "shop.example",
                    "jobs.example",
                    "co.example",
                    "a.example",
                    "subject.example",
                ] {
                    assert!(!part.contains(host), "{t}: {host} could become a link: {part}");
                }
            }
        }
    }

    #[test]
    fn every_template_renders_text_and_escaped_html() {
        let ctx = serde_json::json!({
            "name": "Ada <script>", "body": "Body & more", "reason": "You get this because.",
            "unsubscribe_url": "https://api.example/unsubscribe?token=abc",
            "search_name": "Rust", "jobs": [{"title": "Dev", "company_name": "Acme", "city": "Berlin", "country": "DE", "job_id": "j1"}],
            "next_step": "Go on.", "code": "12345678", "minutes": 15, "hours": 24,
            "verify_url": "https://api.example/auth/email/verify?email=a%40b.co&code=12345678",
            "company_name": "Acme <b>", "role": "member",
        });
        for t in ["notification", "job_alert", "welcome", "reset_code", "verify_code", "invitation"] {
            let e = render(t, "a@b.co", "Subject", &ctx).unwrap();
            assert!(!e.text.is_empty() && e.html.starts_with("<!DOCTYPE html>"), "{t}");
            assert!(!e.html.contains("<script>"), "{t}: escaped");
        }
        let e = render("notification", "a@b.co", "S", &ctx).unwrap();
        assert!(e.text.contains("Ada <script>") && e.text.contains("https://api.example/unsubscribe?token=abc"));
        assert!(e.html.contains("Ada &lt;script&gt;") && e.html.contains("Body &amp; more"));
        assert_eq!(
            e.headers,
            vec![
                (
                    "List-Unsubscribe".to_string(),
                    "<https://api.example/unsubscribe?token=abc>".to_string()
                ),
                ("List-Unsubscribe-Post".to_string(), "List-Unsubscribe=One-Click".to_string())
            ]
        );
        let m = message(&e).unwrap();
        assert_eq!(m.headers().len(), 2);
        assert!(m.body().unwrap().text().is_some() && m.body().unwrap().html().is_some());
        let plain = render(
            "welcome",
            "a@b.co",
            "Hi",
            &serde_json::json!({"name": "A", "next_step": "x", "reason": "r"}),
        )
        .unwrap();
        assert!(plain.headers.is_empty(), "no unsubscribe, no headers");
    }
}
