//! Interview reminders: within 24 hours of an interview its applicant and its interviewer
//! get an `interview` notification, once per interview and time (the id is derived from
//! both: a rescheduled interview is reminded of again).

use std::future::Future;
use std::pin::Pin;

use applications::interviews::Upcoming;
use common::App;

use crate::inbox::{Kind, Notification};

/// How long before an interview its reminder goes out.
pub const AHEAD_SECS: i64 = 24 * 3600;

fn notice(u: &Upcoming, at_secs: i64, company: &str) -> Notification {
    let (i, a) = (&u.interview, &u.application);
    let random = ulid::Ulid::from_string(&i.id).map(|u| u.random()).unwrap_or_default();
    Notification {
        id: ulid::Ulid::from_parts(at_secs.max(0) as u64 * 1000, random).to_string(),
        kind: Kind::Interview,
        title: format!("Reminder: interview for {} at {company}", a.job_title),
        body: format!("{}, {} minutes. Be ready a few minutes early.", i.scheduled_at, i.duration_minutes),
        data: crate::inbox::NotificationData {
            application_id: Some(a.id.clone()),
            job_id: Some(a.job_id.clone()),
            interview_id: Some(i.id.clone()),
            scheduled_at: Some(i.scheduled_at.clone()),
            ..Default::default()
        },
        created_at: common::time::now_rfc3339(),
        read_at: None,
    }
}

/// Reminds applicant and interviewer of every interview starting within 24 hours of
/// `now_secs`; returns how many notifications it stored.
pub async fn remind_due(app: &App, now_secs: i64) -> Result<usize, String> {
    let mut stored = 0;
    for u in applications::interviews::scheduled_between(app, now_secs, now_secs + AHEAD_SECS)
        .await
        .map_err(crate::dispatch::failed)?
    {
        let Some(at) = common::time::parse_rfc3339(&u.interview.scheduled_at).map(|t| t.timestamp()) else {
            continue;
        };
        let company = companies::get(app, &u.application.company_id)
            .await
            .map_err(crate::dispatch::failed)?
            .map(|c| c.name)
            .unwrap_or_default();
        let n = notice(&u, at, &company);
        for user in [&u.application.applicant.user_id, &u.interview.created_by] {
            if crate::dispatch::notify(app, user, &n, None).await? {
                stored += 1;
            }
        }
    }
    Ok(stored)
}

/// The schedule's entry point.
pub fn handler(app: &'static App) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(async move {
        remind_due(app, common::time::now_secs())
            .await
            .map(|n| tracing::info!(notifications = n, "interview reminders stored"))
    })
}
