//! Email, the notification channel: each recipient's notification rendered from the template
//! files (`common::mail`), once per event and recipient (a marker records what went out, so
//! a retry after a failure elsewhere sends nothing twice), with a one-click unsubscribe for
//! its kind (job alerts: for the saved search) in the footer and in `List-Unsubscribe`.
//! Account-security notices have no unsubscribe: they are always sent, also to suspended
//! accounts; every other kind goes to active accounts only.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | sent marker (kept as long as the notification) | `USER#<user>` | `EMAILED#<event id>` |

use auth::account::Summary;
use common::events::SavedSearchMatched;
use common::mail::Email;
use common::unsubscribe::Stop;
use common::{ApiResult, App};
use serde_json::json;

use crate::inbox::{Kind, Notification, KEEP_SECS};

/// Why the recipient gets an email of `kind` (the footer).
pub fn reason(kind: Kind) -> String {
    match kind {
        Kind::AccountSecurity => "This is a security notice about your account; these are always sent.".into(),
        Kind::JobAlert => "You get this email because you saved this search with alerts on.".into(),
        other => format!("You get this email because {} notifications are on by email.", other.label()),
    }
}

/// The email of `n` to `who`; `alert` is the match a job alert came from (it lists the jobs).
pub fn compose(app: &App, alert: Option<&SavedSearchMatched>, who: &Summary, n: &Notification) -> Result<Email, String> {
    let stop = |item_id: &str| {
        common::unsubscribe::link(
            app,
            &Stop {
                kind: n.kind.as_str().into(),
                user_id: who.id.clone(),
                item_id: item_id.into(),
            },
        )
        .map_err(|e| e.to_string())
    };
    if let Some(SavedSearchMatched {
        saved_search_id,
        name,
        jobs,
        ..
    }) = alert
    {
        let context = json!({"name": who.full_name, "search_name": name, "jobs": jobs,
            "reason": reason(n.kind), "unsubscribe_url": stop(saved_search_id)?});
        return common::mail::render("job_alert", &who.email, &n.title, &context);
    }
    let unsubscribe_url = (n.kind != Kind::AccountSecurity).then(|| stop("")).transpose()?;
    let context = json!({"name": who.full_name, "body": n.body, "reason": reason(n.kind), "unsubscribe_url": unsubscribe_url});
    common::mail::render("notification", &who.email, &n.title, &context)
}

fn marker_sk(event_id: &str) -> String {
    format!("EMAILED#{event_id}")
}

/// Whether the email of event `event_id` already went to `user_id`.
pub async fn already_sent(app: &App, user_id: &str, event_id: &str) -> ApiResult<bool> {
    Ok(
        common::db::get::<serde_json::Value>(app, auth::account::partition(user_id), marker_sk(event_id))
            .await?
            .is_some(),
    )
}

/// Sends `mail` for event `event_id` to `user_id` and records that it went (the caller
/// checked [`already_sent`] before building it).
pub async fn send_and_record(app: &App, user_id: &str, event_id: &str, mail: &Email) -> Result<(), String> {
    common::mail::send(app, mail).await?;
    record_sent(app, user_id, event_id)
        .await
        .map_err(|e| format!("{}: {:?}", e.message, e.source))
}

/// Records that the email of event `event_id` went to `user_id`.
async fn record_sent(app: &App, user_id: &str, event_id: &str) -> ApiResult<()> {
    let mut marker = common::db::key(auth::account::partition(user_id), marker_sk(event_id));
    marker.insert("entity".into(), common::db::s("email_sent"));
    marker.insert(common::db::TTL.into(), common::db::n(common::time::now_secs() + KEEP_SECS));
    app.dynamo()
        .put_item()
        .table_name(app.table())
        .set_item(Some(marker))
        .send()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::vocab::AccountStatus;

    fn app() -> App {
        let settings = common::app::Settings::from_lookup(|k| match k {
            "TABLE_NAME" => Some("t".into()),
            "PUBLIC_API_URL" => Some("https://api.example".into()),
            _ => None,
        })
        .unwrap();
        let app = App::with_settings(settings);
        app.set_keys(Some(common::token::TokenKeys::new(&[7; 32], "i", "a").unwrap()), None);
        app
    }

    fn who() -> Summary {
        Summary {
            id: "u1".into(),
            email: "ada@example.com".into(),
            full_name: "Ada".into(),
            role: common::token::Role::Seeker,
            status: AccountStatus::Active,
            updated_at: String::new(),
        }
    }

    fn note(kind: Kind) -> Notification {
        Notification {
            id: "e1".into(),
            kind,
            title: "Welder at Acme: shortlisted".into(),
            body: "You are on the shortlist for Welder at Acme.".into(),
            data: Default::default(),
            created_at: String::new(),
            read_at: None,
        }
    }

    #[test]
    fn each_kind_unsubscribes_itself_and_security_notices_have_no_link() {
        let app = app();
        let e = compose(&app, None, &who(), &note(Kind::ApplicationStatus)).unwrap();
        assert_eq!(e.to, "ada@example.com");
        assert_eq!(e.subject, "Welder at Acme: shortlisted");
        assert!(
            e.text.contains("Hi Ada") && e.text.contains("shortlist for Welder at Acme"),
            "{}",
            e.text
        );
        let link = e.text.split_whitespace().find(|w| w.contains("/unsubscribe?token=")).unwrap();
        assert!(link.starts_with("https://api.example/unsubscribe?token="));
        let token = link.split("token=").nth(1).unwrap();
        let stop = common::unsubscribe::open(&app, token).unwrap().unwrap();
        assert_eq!((stop.kind.as_str(), stop.user_id.as_str()), ("application_status", "u1"));
        assert_eq!(e.headers[0], ("List-Unsubscribe".into(), format!("<{link}>")));

        let security = compose(&app, None, &who(), &note(Kind::AccountSecurity)).unwrap();
        assert!(security.headers.is_empty() && !security.text.contains("/unsubscribe"));
    }

    #[test]
    fn job_alerts_list_their_jobs_and_stop_their_saved_search() {
        let app = app();
        let m = SavedSearchMatched {
            saved_search_id: "s1".into(),
            user_id: "u1".into(),
            name: "Rust".into(),
            frequency: common::vocab::AlertFrequency::Instant,
            jobs: vec![common::events::MatchedJob {
                job_id: "j1".into(),
                title: "Rust developer".into(),
                company_name: "Acme".into(),
                city: "Berlin".into(),
                country: "DE".into(),
            }],
        };
        let e = compose(&app, Some(&m), &who(), &note(Kind::JobAlert)).unwrap();
        assert!(e.text.contains("Rust developer at Acme (Berlin, DE): job j1"), "{}", e.text);
        let token = e.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap();
        let stop = common::unsubscribe::open(&app, token).unwrap().unwrap();
        assert_eq!((stop.kind.as_str(), stop.item_id.as_str()), ("job_alert", "s1"));
    }
}
