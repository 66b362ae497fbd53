//! The expiring-jobs schedule: three days before a job's deadline its company's members get
//! a `job_expiring` notification, once per job and deadline (the notification's id is
//! derived from both, so later runs and retries store nothing new; a moved deadline warns
//! again).

use std::future::Future;
use std::pin::Pin;

use common::vocab::Job;
use common::App;

use crate::inbox::{Kind, Notification};

/// How long before the deadline companies are warned.
pub const AHEAD_SECS: i64 = 3 * 24 * 3600;

/// The notification's id: a ULID made of the deadline's time and the job id's random part.
pub fn notice_id(job: &Job, deadline_secs: i64) -> String {
    let random = ulid::Ulid::from_string(&job.id).map(|u| u.random()).unwrap_or_default();
    ulid::Ulid::from_parts(deadline_secs.max(0) as u64 * 1000, random).to_string()
}

fn notice(job: &Job, deadline_secs: i64, company: &str) -> Notification {
    let deadline = job.application_deadline.clone().unwrap_or_default();
    Notification {
        id: notice_id(job, deadline_secs),
        kind: Kind::JobExpiring,
        title: format!("{} closes in 3 days", job.title),
        body: format!(
            "Applications for {} at {company} close on {deadline}. Extend the deadline or review the applicants now.",
            job.title
        ),
        data: crate::inbox::NotificationData {
            job_id: Some(job.id.clone()),
            company_id: Some(job.company_id.clone()),
            deadline: Some(deadline),
            ..Default::default()
        },
        created_at: common::time::now_rfc3339(),
        read_at: None,
    }
}

/// Warns the members of every company whose open jobs close within three days of
/// `now_secs`; returns how many notifications it stored.
pub async fn warn_due(app: &App, now_secs: i64) -> Result<usize, String> {
    let mut stored = 0;
    for job in jobs::expiry::closing_between(app, now_secs, now_secs + AHEAD_SECS)
        .await
        .map_err(crate::dispatch::failed)?
    {
        let Some(deadline) = job.deadline_secs() else { continue };
        let company = companies::get(app, &job.company_id)
            .await
            .map_err(crate::dispatch::failed)?
            .map(|c| c.name)
            .unwrap_or_else(|| "your company".into());
        let n = notice(&job, deadline, &company);
        for member in companies::members::member_ids(app, &job.company_id)
            .await
            .map_err(crate::dispatch::failed)?
        {
            if crate::dispatch::notify(app, &member, &n, None).await? {
                stored += 1;
            }
        }
    }
    Ok(stored)
}

/// The schedule's entry point.
pub fn handler(app: &'static App) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(async move {
        warn_due(app, common::time::now_secs())
            .await
            .map(|n| tracing::info!(notifications = n, "expiring jobs warned"))
    })
}
