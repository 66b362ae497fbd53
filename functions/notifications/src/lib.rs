//! Notifications consumer: turns domain events into messages for users. For now: email
//! (welcome on registration, security notices on password change and reset). In-app and
//! push channels and per-user preferences come with the notifications issue.

use std::future::Future;
use std::pin::Pin;

use common::events::Envelope;
use common::App;

/// The consumer's name; scopes its dedupe records.
pub const CONSUMER: &str = "notifications";

/// What to send for an event, if anything: (to, subject, text).
pub fn render(event: &Envelope) -> Option<(String, String, String)> {
    let email = event.data.get("email")?.as_str()?.to_string();
    match event.kind.as_str() {
        "user.registered" => {
            let name = event.data.get("full_name").and_then(|n| n.as_str()).unwrap_or("there");
            let role = event.data.get("role").and_then(|r| r.as_str()).unwrap_or("seeker");
            let next = if role == "employer" {
                "Create your company page and post your first job."
            } else {
                "Complete your profile and start applying to jobs."
            };
            Some((email, "Welcome to the job platform".into(), format!("Hi {name},\n\nyour account is ready. {next}\n")))
        }
        "user.password_changed" => Some((
            email,
            "Your password was changed".into(),
            "The password of your account was just changed and your other sessions were signed out. If this was not you, reset your password now.\n".into(),
        )),
        "user.password_reset" => Some((
            email,
            "Your password was reset".into(),
            "The password of your account was reset with an emailed code and all sessions were signed out. If this was not you, contact support.\n".into(),
        )),
        _ => None,
    }
}

pub async fn handle(app: &'static App, event: Envelope) -> Result<(), String> {
    let Some((to, subject, text)) = render(&event) else {
        tracing::debug!(event_type = %event.kind, "nothing to notify");
        return Ok(());
    };
    common::mail::send_text(app, &to, &subject, &text).await
}

/// The consumer as the runtime and the local gateway call it.
pub fn handler(app: &'static App, event: Envelope) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(handle(app, event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::events::Actor;

    #[test]
    fn renders_known_events_only() {
        let e = Envelope::new(
            "user.registered",
            1,
            Actor::System,
            serde_json::json!({"email": "a@b.co", "full_name": "Ada", "role": "employer"}),
        );
        let (to, subject, text) = render(&e).unwrap();
        assert_eq!(to, "a@b.co");
        assert!(subject.contains("Welcome"));
        assert!(text.contains("Ada") && text.contains("company"));
        let other = Envelope::new("job.created", 1, Actor::System, serde_json::json!({"email": "a@b.co"}));
        assert!(render(&other).is_none());
        let no_email = Envelope::new("user.registered", 1, Actor::System, serde_json::json!({}));
        assert!(render(&no_email).is_none());
    }
}
