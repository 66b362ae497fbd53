//! Email through SES (v2). Locally the stand-in records every message it accepts.

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};

use crate::app::App;

fn content(text: &str) -> Result<Content, String> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| e.to_string())
}

pub async fn send_text(app: &App, to: &str, subject: &str, text: &str) -> Result<(), String> {
    send(app, to, subject, text, &[]).await
}

/// A text email with extra headers (`List-Unsubscribe`, ...).
pub async fn send(app: &App, to: &str, subject: &str, text: &str, headers: &[(&str, String)]) -> Result<(), String> {
    let mut message = Message::builder()
        .subject(content(subject)?)
        .body(Body::builder().text(content(text)?).build());
    for (name, value) in headers {
        message = message.headers(
            MessageHeader::builder()
                .name(*name)
                .value(value)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    let message = message.build();
    app.ses()
        .send_email()
        .from_email_address(&app.settings.mail_from)
        .destination(Destination::builder().to_addresses(to).build())
        .content(EmailContent::builder().simple(message).build())
        .send()
        .await
        .map_err(|e| aws_sdk_sesv2::error::DisplayErrorContext(e).to_string())?;
    Ok(())
}
