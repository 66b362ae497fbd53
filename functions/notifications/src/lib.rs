//! Notifications: the consumer turns domain events into messages for users, in-app (every
//! kind, stored per recipient: [`recipients`], [`inbox`]) and by email (welcome,
//! security notices, applicants on their applications' moves and interviews, job alerts),
//! and the in-app routes ([`handlers`]). Live, push, email templates and preferences come
//! with the rest of the notifications issue.

pub mod devices;
pub mod expiring;
pub mod handlers;
pub mod inbox;
pub mod preferences;
pub mod recipients;
pub mod reminders;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use common::consumer::Delivery;
use common::events::{
    AccountChanged, ApplicationMoved, ApplicationRef, DomainEvent, InterviewChanged, SavedSearchMatched, UserNotice, UserRegistered,
};
use common::token::Role;
use common::vocab::ApplicationStatus;
use common::App;
use preferences::{Channel, Preferences};

/// The consumer's name; scopes its dedupe records.
pub const CONSUMER: &str = "notifications";

/// An email: (to, subject, text).
pub type Mail = (String, String, String);

/// What to send for an event that names its recipient's address, if anything.
pub fn render(event: &DomainEvent) -> Option<Mail> {
    match event {
        DomainEvent::UserRegistered(UserRegistered { email, full_name, role, .. }) => {
            let next = if *role == Role::Employer {
                "Create your company page and post your first job."
            } else {
                "Complete your profile and start applying to jobs."
            };
            Some((
                email.clone(),
                "Welcome to the job platform".into(),
                format!("Hi {full_name},\n\nyour account is ready. {next}\n"),
            ))
        }
        DomainEvent::PasswordChanged(UserNotice { email, .. }) => Some((
            email.clone(),
            "Your password was changed".into(),
            "The password of your account was just changed and your other sessions were signed out. If this was not you, reset your password now.\n".into(),
        )),
        DomainEvent::PasswordReset(UserNotice { email, .. }) => Some((
            email.clone(),
            "Your password was reset".into(),
            "The password of your account was reset with an emailed code and all sessions were signed out. If this was not you, contact support.\n".into(),
        )),
        // Account security: always emailed, whatever the preferences.
        DomainEvent::UserRoleChanged(AccountChanged { email, role, .. }) => Some((
            email.clone(),
            "Your account's role changed".into(),
            format!(
                "An administrator made your account a {} account and signed out its sessions. Sign in again to continue. If you did not expect this, contact support.\n",
                role.as_str()
            ),
        )),
        DomainEvent::UserSuspended(AccountChanged { email, .. }) => Some((
            email.clone(),
            "Your account was suspended".into(),
            "An administrator suspended your account; its sessions were signed out. Contact support if you think this is a mistake.\n".into(),
        )),
        _ => None,
    }
}

/// The applicant an application or interview event is about, if it is one.
pub fn applicant_of(event: &DomainEvent) -> Option<&ApplicationRef> {
    match event {
        DomainEvent::ApplicationSubmitted(a) => Some(a),
        DomainEvent::ApplicationStatusChanged(m) | DomainEvent::ApplicationWithdrawn(m) => Some(&m.application),
        DomainEvent::InterviewScheduled(i)
        | DomainEvent::InterviewRescheduled(i)
        | DomainEvent::InterviewCancelled(i)
        | DomainEvent::InterviewCompleted(i) => Some(&i.application),
        _ => None,
    }
}

/// What to tell an applicant about their application or interview: (subject, text).
pub fn render_for_applicant(event: &DomainEvent, full_name: &str) -> Option<(String, String)> {
    let job = &applicant_of(event)?.job_title;
    let hi = format!("Hi {full_name},\n\n");
    let when = |i: &InterviewChanged| {
        let place = i
            .meeting_url
            .as_deref()
            .or(i.location.as_deref())
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let kind = serde_json::to_value(i.kind)
            .ok()
            .and_then(|k| k.as_str().map(str::to_string))
            .unwrap_or_default();
        format!("{}, {} minutes, {kind}{place}", i.scheduled_at, i.duration_minutes)
    };
    match event {
        DomainEvent::ApplicationSubmitted(_) => Some((
            format!("Your application for {job} was sent"),
            format!("{hi}your application for {job} reached the company. We will let you know when it moves.\n"),
        )),
        DomainEvent::ApplicationStatusChanged(ApplicationMoved { to, .. }) => {
            let text = match to {
                ApplicationStatus::Rejected => {
                    format!("{hi}the company decided not to move forward with your application for {job}. Thank you for applying.\n")
                }
                ApplicationStatus::Hired => format!("{hi}congratulations: you were hired for {job}!\n"),
                other => format!("{hi}your application for {job} is now {}.\n", other.as_str()),
            };
            Some((format!("Your application for {job}: {}", to.as_str()), text))
        }
        DomainEvent::InterviewScheduled(i) => Some((
            format!("Interview for {job}"),
            format!("{hi}an interview for {job} is scheduled: {}.\n", when(i)),
        )),
        DomainEvent::InterviewRescheduled(i) => Some((
            format!("Interview for {job} moved"),
            format!("{hi}your interview for {job} moved to {}.\n", when(i)),
        )),
        DomainEvent::InterviewCancelled(_) => Some((
            format!("Interview for {job} cancelled"),
            format!("{hi}your interview for {job} was cancelled.\n"),
        )),
        _ => None,
    }
}

/// A job alert (instant or digest): (subject, text). `link` stops this saved search's alerts.
pub fn render_alert(m: &SavedSearchMatched, full_name: &str, link: &str) -> (String, String) {
    let subject = match m.jobs.as_slice() {
        [one] => format!("New job for \"{}\": {} at {}", m.name, one.title, one.company_name),
        many => format!("{} new jobs for \"{}\"", many.len(), m.name),
    };
    let mut text = format!("Hi {full_name},\n\nnew jobs match your saved search \"{}\":\n\n", m.name);
    for j in &m.jobs {
        text.push_str(&format!(
            "- {} at {} ({}, {}): job {}\n",
            j.title, j.company_name, j.city, j.country, j.job_id
        ));
    }
    text.push_str(&format!(
        "\nOpen the app to read them and apply.\n\nStop these alerts (one click, no login): {link}\n"
    ));
    (subject, text)
}

async fn alert(app: &App, m: &SavedSearchMatched, known: Option<&Preferences>) -> Result<(), String> {
    let Some(who) = auth::account::summary(app, &m.user_id)
        .await
        .map_err(|e| format!("{}: {:?}", e.message, e.source))?
    else {
        return Ok(());
    };
    if !who.is_active() || !wants_email(app, &m.user_id, inbox::Kind::JobAlert, known).await? {
        return Ok(());
    }
    let link = common::unsubscribe::link(
        app,
        &common::unsubscribe::Stop {
            kind: "job_alert".into(),
            user_id: m.user_id.clone(),
            item_id: m.saved_search_id.clone(),
        },
    );
    let (subject, text) = render_alert(m, &who.full_name, &link);
    let headers = [
        ("List-Unsubscribe", format!("<{link}>")),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_string()),
    ];
    common::mail::send(app, &who.email, &subject, &text, &headers).await
}

pub async fn handle(app: &'static App, delivery: Delivery) -> Result<(), String> {
    let failed = |e: common::ApiError| format!("{}: {:?}", e.message, e.source);
    // In-app first: each recipient's notification is stored once (keyed by the event), so a
    // retry after a failed email repeats nothing here. Each recipient's preferences are read
    // once and serve the email below too.
    let mut read: HashMap<String, Preferences> = HashMap::new();
    for p in recipients::plan(app, &delivery).await.map_err(failed)? {
        let prefs = preferences::of(app, &p.user_id).await.map_err(failed)?;
        read.insert(p.user_id.clone(), prefs.clone());
        let new = if prefs.allows(p.notification.kind, Channel::InApp) {
            inbox::deliver(app, &p.user_id, &p.notification).await.map_err(failed)?
        } else {
            inbox::mark_sent(app, &p.user_id, &p.notification.id).await.map_err(failed)?
        };
        // Pushed once: only when this delivery is the first for the recipient.
        if new && prefs.allows(p.notification.kind, Channel::Push) {
            devices::push(app, &p.user_id, &p.notification).await;
        }
    }
    let event = &delivery.event;
    if let DomainEvent::SavedSearchMatched(m) = event {
        return alert(app, m, read.get(&m.user_id)).await;
    }
    if let Some((to, subject, text)) = render(event) {
        return common::mail::send_text(app, &to, &subject, &text).await;
    }
    // Application and interview events name the applicant by id; the address is read now
    // (an erased account gets nothing).
    let Some(applicant) = applicant_of(event) else {
        tracing::debug!(event_type = event.kind(), "nothing to notify");
        return Ok(());
    };
    let Some(who) = auth::account::summary(app, &applicant.seeker_id)
        .await
        .map_err(|e| format!("{}: {:?}", e.message, e.source))?
    else {
        return Ok(());
    };
    let kind = if matches!(
        event,
        DomainEvent::ApplicationSubmitted(_) | DomainEvent::ApplicationStatusChanged(_)
    ) {
        inbox::Kind::ApplicationStatus
    } else {
        inbox::Kind::Interview
    };
    if !wants_email(app, &who.id, kind, read.get(&who.id)).await? {
        return Ok(());
    }
    match render_for_applicant(event, &who.full_name) {
        Some((subject, text)) => common::mail::send_text(app, &who.email, &subject, &text).await,
        None => Ok(()),
    }
}

/// Whether the user's preferences (`known` when already read) let `kind` reach them by email.
async fn wants_email(app: &App, user_id: &str, kind: inbox::Kind, known: Option<&Preferences>) -> Result<bool, String> {
    let prefs = match known {
        Some(p) => p.clone(),
        None => preferences::of(app, user_id)
            .await
            .map_err(|e| format!("{}: {:?}", e.message, e.source))?,
    };
    Ok(prefs.allows(kind, Channel::Email))
}

/// The consumer as the runtime and the local gateway call it.
pub fn handler(app: &'static App, delivery: Delivery) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(handle(app, delivery))
}

common::functions! {
    openapi(tags((name = "notifications", description = "In-app notifications of the caller")));
    http {
        "notifications-list" => handlers::list,
        "notifications-unread-count" => handlers::unread_count,
        "notifications-read" => handlers::read,
        "notifications-read-all" => handlers::read_all,
        "notifications-preferences-get" => preferences::get,
        "notifications-preferences-put" => preferences::put,
        "notifications-devices-register" => devices::register,
        "notifications-devices-unregister" => devices::unregister,
    }
    other {
        "notifications-consumer" => common::runtime::Kind::Consumer(CONSUMER, handler),
        "notifications-expiring" => common::runtime::Kind::Scheduled(expiring::handler),
        "notifications-reminders" => common::runtime::Kind::Scheduled(reminders::handler),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::events::{JobReported, UserNotice};
    use common::vocab::{InterviewKind, ReportReason};

    fn application() -> ApplicationRef {
        ApplicationRef {
            application_id: "a".into(),
            job_id: "j".into(),
            company_id: "c".into(),
            seeker_id: "s".into(),
            job_title: "Welder".into(),
        }
    }

    #[test]
    fn alerts_name_the_jobs_and_carry_the_link() {
        let job = |title: &str| common::events::MatchedJob {
            job_id: "j1".into(),
            title: title.into(),
            company_name: "Acme".into(),
            city: "Berlin".into(),
            country: "DE".into(),
        };
        let mut m = SavedSearchMatched {
            saved_search_id: "s".into(),
            user_id: "u".into(),
            name: "Rust".into(),
            frequency: common::vocab::AlertFrequency::Instant,
            jobs: vec![job("Rust developer")],
        };
        let (subject, text) = render_alert(&m, "Ada", "https://x/unsubscribe?token=t");
        assert_eq!(subject, "New job for \"Rust\": Rust developer at Acme");
        assert!(
            text.contains("Hi Ada") && text.contains("Berlin") && text.ends_with("https://x/unsubscribe?token=t\n"),
            "{text}"
        );
        m.jobs.push(job("Rust lead"));
        assert_eq!(render_alert(&m, "Ada", "l").0, "2 new jobs for \"Rust\"");
    }

    #[test]
    fn renders_known_events_only() {
        let e = DomainEvent::UserRegistered(UserRegistered {
            user_id: "u".into(),
            email: "a@b.co".into(),
            role: Role::Employer,
            full_name: "Ada".into(),
        });
        let (to, subject, text) = render(&e).unwrap();
        assert_eq!(to, "a@b.co");
        assert!(subject.contains("Welcome"));
        assert!(text.contains("Ada") && text.contains("company"));
        let suspended = DomainEvent::UserSuspended(AccountChanged {
            user_id: "u".into(),
            email: "a@b.co".into(),
            role: Role::Seeker,
            status: common::vocab::AccountStatus::Suspended,
            reason: Some("internal note".into()),
        });
        let (to, subject, text) = render(&suspended).unwrap();
        assert_eq!(to, "a@b.co");
        assert!(subject.contains("suspended") && !text.contains("internal note"), "{text}");
        let reset = DomainEvent::PasswordReset(UserNotice {
            user_id: "u".into(),
            email: "a@b.co".into(),
        });
        assert!(render(&reset).unwrap().1.contains("reset"));
        let other = DomainEvent::JobReported(JobReported {
            job_id: "j".into(),
            company_id: "c".into(),
            reason: ReportReason::Spam,
        });
        assert!(render(&other).is_none() && applicant_of(&other).is_none());
        let moved = DomainEvent::ApplicationStatusChanged(ApplicationMoved {
            application: application(),
            from: ApplicationStatus::Reviewed,
            to: ApplicationStatus::Shortlisted,
        });
        let (subject, text) = render_for_applicant(&moved, "Ada").unwrap();
        assert!(subject.contains("Welder") && text.contains("shortlisted") && text.contains("Ada"));
        let interview = DomainEvent::InterviewScheduled(InterviewChanged {
            application: application(),
            interview_id: "i".into(),
            scheduled_at: "2027-01-01T10:00:00Z".into(),
            duration_minutes: 30,
            kind: InterviewKind::Video,
            location: None,
            meeting_url: Some("https://meet.example/x".into()),
        });
        let text = render_for_applicant(&interview, "Ada").unwrap().1;
        assert!(text.contains("https://meet.example/x") && text.contains("video"), "{text}");
    }
}
