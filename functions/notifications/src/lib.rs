//! Notifications consumer: turns domain events into messages for users. For now: email
//! (welcome on registration, security notices on password change and reset, applicants on
//! their applications' moves and interviews). In-app and
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

/// What to tell an applicant about their application or interview: (subject, text).
pub fn render_for_applicant(event: &Envelope, full_name: &str) -> Option<(String, String)> {
    let d = &event.data;
    let job = d.get("job_title").and_then(|v| v.as_str()).unwrap_or("the job");
    let hi = format!("Hi {full_name},\n\n");
    let when = || {
        let at = d.get("scheduled_at").and_then(|v| v.as_str()).unwrap_or("(time to be confirmed)");
        let minutes = d.get("duration_minutes").and_then(|v| v.as_u64()).unwrap_or(0);
        let kind = d.get("kind").and_then(|v| v.as_str()).unwrap_or("");
        let place = d
            .get("meeting_url")
            .and_then(|v| v.as_str())
            .or_else(|| d.get("location").and_then(|v| v.as_str()))
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        format!("{at}, {minutes} minutes, {kind}{place}")
    };
    match event.kind.as_str() {
        "application.submitted" => Some((
            format!("Your application for {job} was sent"),
            format!("{hi}your application for {job} reached the company. We will let you know when it moves.\n"),
        )),
        "application.status_changed" => {
            let to = d.get("to").and_then(|v| v.as_str()).unwrap_or("updated");
            let text = match to {
                "rejected" => {
                    format!("{hi}the company decided not to move forward with your application for {job}. Thank you for applying.\n")
                }
                "hired" => format!("{hi}congratulations: you were hired for {job}!\n"),
                other => format!("{hi}your application for {job} is now {other}.\n"),
            };
            Some((format!("Your application for {job}: {to}"), text))
        }
        "interview.scheduled" => Some((
            format!("Interview for {job}"),
            format!("{hi}an interview for {job} is scheduled: {}.\n", when()),
        )),
        "interview.rescheduled" => Some((
            format!("Interview for {job} moved"),
            format!("{hi}your interview for {job} moved to {}.\n", when()),
        )),
        "interview.cancelled" => Some((
            format!("Interview for {job} cancelled"),
            format!("{hi}your interview for {job} was cancelled.\n"),
        )),
        _ => None,
    }
}

pub async fn handle(app: &'static App, event: Envelope) -> Result<(), String> {
    if let Some((to, subject, text)) = render(&event) {
        return common::mail::send_text(app, &to, &subject, &text).await;
    }
    // Application and interview events name the applicant by id; the address is read now
    // (an erased account gets nothing).
    let Some(seeker) = event.data.get("seeker_id").and_then(|v| v.as_str()) else {
        tracing::debug!(event_type = %event.kind, "nothing to notify");
        return Ok(());
    };
    let Some(who) = auth::account::summary(app, seeker)
        .await
        .map_err(|e| format!("{}: {:?}", e.message, e.source))?
    else {
        return Ok(());
    };
    match render_for_applicant(&event, &who.full_name) {
        Some((subject, text)) => common::mail::send_text(app, &who.email, &subject, &text).await,
        None => Ok(()),
    }
}

/// This crate's one function (template.yaml `Handler`).
pub const FUNCTIONS: &[common::runtime::Function] = &[common::runtime::Function {
    name: "notifications-consumer",
    kind: common::runtime::Kind::Consumer(CONSUMER, handler),
}];

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
        let moved = Envelope::new(
            "application.status_changed",
            1,
            Actor::System,
            serde_json::json!({"seeker_id": "x", "job_title": "Welder", "to": "shortlisted"}),
        );
        let (subject, text) = render_for_applicant(&moved, "Ada").unwrap();
        assert!(subject.contains("Welder") && text.contains("shortlisted") && text.contains("Ada"));
        let interview = Envelope::new(
            "interview.scheduled",
            1,
            Actor::System,
            serde_json::json!({"job_title": "Welder", "scheduled_at": "2027-01-01T10:00:00Z", "duration_minutes": 30, "kind": "video", "meeting_url": "https://meet.example/x"}),
        );
        assert!(render_for_applicant(&interview, "Ada")
            .unwrap()
            .1
            .contains("https://meet.example/x"));
    }
}
