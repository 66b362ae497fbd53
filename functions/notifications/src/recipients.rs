//! Who hears about what, in-app: each event a person cares about becomes one notification
//! per recipient (the kinds of the notifications issue). Texts name the job, the company and
//! the next step; what only the company sees (notes, feedback, ratings) is never in them.

use common::consumer::Delivery;
use common::events::{Actor, ApplicationRef, DomainEvent};
use common::vocab::ApplicationStatus;
use common::{ApiResult, App};

use crate::inbox::{Kind, Notification, NotificationData};

/// One notification for one user.
pub struct Planned {
    pub user_id: String,
    pub notification: Notification,
}

fn note(d: &Delivery, kind: Kind, title: String, body: String, data: NotificationData) -> Notification {
    Notification {
        id: d.id.clone(),
        kind,
        title,
        body,
        data,
        created_at: d.occurred_at.clone(),
        read_at: None,
    }
}

fn to_each(users: Vec<String>, n: &Notification) -> Vec<Planned> {
    let mut seen = std::collections::HashSet::new();
    users
        .into_iter()
        .filter(|u| seen.insert(u.clone()))
        .map(|user_id| Planned {
            user_id,
            notification: n.clone(),
        })
        .collect()
}

async fn company_name(app: &App, id: &str) -> ApiResult<String> {
    Ok(companies::get(app, id)
        .await?
        .map(|c| c.name)
        .unwrap_or_else(|| "the company".into()))
}

fn application_data(a: &ApplicationRef) -> NotificationData {
    NotificationData {
        application_id: Some(a.application_id.clone()),
        job_id: Some(a.job_id.clone()),
        company_id: Some(a.company_id.clone()),
        ..NotificationData::default()
    }
}

/// What to tell an applicant about a move, and what they can do next.
fn status_text(to: ApplicationStatus, job: &str, company: &str) -> (String, String) {
    let title = format!("{job} at {company}: {}", to.as_str());
    let body = match to {
        ApplicationStatus::Reviewed => format!("{company} reviewed your application for {job}."),
        ApplicationStatus::Shortlisted => format!("You are on the shortlist for {job} at {company}. Expect an interview invitation."),
        ApplicationStatus::Interviewing => format!("{company} wants to interview you for {job}. Check your interviews."),
        ApplicationStatus::Offered => format!("{company} made you an offer for {job}. Reply to them soon."),
        ApplicationStatus::Hired => format!("Congratulations: {company} hired you for {job}!"),
        ApplicationStatus::Rejected => {
            format!("{company} will not move forward with your application for {job}. Keep going: new jobs come every day.")
        }
        other => format!("Your application for {job} at {company} is now {}.", other.as_str()),
    };
    (title, body)
}

/// The in-app notifications `d` makes, with their recipients (none for most events).
pub async fn plan(app: &App, d: &Delivery) -> ApiResult<Vec<Planned>> {
    use DomainEvent::*;
    match &d.event {
        ApplicationSubmitted(_) | ApplicationStatusChanged(_) | ApplicationWithdrawn(_) => pipeline(app, d).await,
        InterviewScheduled(i) | InterviewRescheduled(i) | InterviewCancelled(i) => interview(app, d, i).await,
        SavedSearchMatched(m) => Ok(job_alert(d, m)),
        JobSuspended(c) | JobRestored(c) => moderation(app, d, c).await,
        PasswordChanged(_) | PasswordReset(_) | UserRoleChanged(_) | UserSuspended(_) => Ok(account(d)),
        _ => Ok(vec![]),
    }
}

/// An application sent (to the company), moved (to the applicant) or withdrawn (to the
/// company).
async fn pipeline(app: &App, d: &Delivery) -> ApiResult<Vec<Planned>> {
    use DomainEvent::*;
    Ok(match &d.event {
        ApplicationSubmitted(a) => {
            let applicant = auth::account::summary(app, &a.seeker_id).await?.map(|s| s.full_name);
            let who = applicant.unwrap_or_else(|| "Someone".into());
            let company = company_name(app, &a.company_id).await?;
            let n = note(
                d,
                Kind::NewApplicant,
                format!("New applicant for {}", a.job_title),
                format!(
                    "{who} applied to {} at {company}. Review the application in your pipeline.",
                    a.job_title
                ),
                application_data(a),
            );
            to_each(companies::members::member_ids(app, &a.company_id).await?, &n)
        }
        ApplicationStatusChanged(m) => {
            let a = &m.application;
            let (title, body) = status_text(m.to, &a.job_title, &company_name(app, &a.company_id).await?);
            let mut data = application_data(a);
            data.status = Some(m.to);
            to_each(vec![a.seeker_id.clone()], &note(d, Kind::ApplicationStatus, title, body, data))
        }
        ApplicationWithdrawn(m) => {
            let a = &m.application;
            let n = note(
                d,
                Kind::ApplicationStatus,
                format!("An applicant withdrew from {}", a.job_title),
                format!(
                    "An application for {} at {} was withdrawn; it leaves your pipeline.",
                    a.job_title,
                    company_name(app, &a.company_id).await?
                ),
                application_data(a),
            );
            to_each(companies::members::member_ids(app, &a.company_id).await?, &n)
        }
        _ => vec![],
    })
}

/// An interview scheduled, moved or cancelled: the applicant and whoever did it.
async fn interview(app: &App, d: &Delivery, i: &common::events::InterviewChanged) -> ApiResult<Vec<Planned>> {
    use DomainEvent::*;
    let a = &i.application;
    let company = company_name(app, &a.company_id).await?;
    let (title, body) = match &d.event {
        InterviewScheduled(_) => (
            format!("Interview for {} at {company}", a.job_title),
            format!("{}, {} minutes. Add it to your calendar.", i.scheduled_at, i.duration_minutes),
        ),
        InterviewRescheduled(_) => (
            format!("Interview for {} moved", a.job_title),
            format!(
                "The interview with {company} is now {}, {} minutes.",
                i.scheduled_at, i.duration_minutes
            ),
        ),
        _ => (
            format!("Interview for {} cancelled", a.job_title),
            format!("The interview with {company} on {} was cancelled.", i.scheduled_at),
        ),
    };
    let mut data = application_data(a);
    data.interview_id = Some(i.interview_id.clone());
    data.scheduled_at = Some(i.scheduled_at.clone());
    let mut to = vec![a.seeker_id.clone()];
    if let Actor::User { id } = &d.actor {
        to.push(id.clone());
    }
    Ok(to_each(to, &note(d, Kind::Interview, title, body, data)))
}

/// New matches of a saved search (instant alerts): its owner.
fn job_alert(d: &Delivery, m: &common::events::SavedSearchMatched) -> Vec<Planned> {
    let title = match m.jobs.as_slice() {
        [one] => format!("New job for \"{}\": {}", m.name, one.title),
        many => format!("{} new jobs for \"{}\"", many.len(), m.name),
    };
    let body = m
        .jobs
        .iter()
        .map(|j| format!("{} at {} ({})", j.title, j.company_name, j.city))
        .collect::<Vec<_>>()
        .join("; ");
    let data = NotificationData {
        saved_search_id: Some(m.saved_search_id.clone()),
        job_ids: Some(m.jobs.iter().map(|j| j.job_id.clone()).collect()),
        ..NotificationData::default()
    };
    to_each(vec![m.user_id.clone()], &note(d, Kind::JobAlert, title, body, data))
}

/// A job suspended or restored by a moderator: its company's members.
async fn moderation(app: &App, d: &Delivery, c: &common::events::JobChanged) -> ApiResult<Vec<Planned>> {
    use DomainEvent::*;
    let company = company_name(app, &c.job.company_id).await?;
    let (title, body) = match &d.event {
        JobSuspended(_) => (
            format!("{} was suspended", c.job.title),
            format!(
                "A moderator suspended {} at {company}{}. It is hidden until it is restored; edit it and ask support to review it.",
                c.job.title,
                c.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            ),
        ),
        _ => (
            format!("{} is visible again", c.job.title),
            format!("A moderator restored {} at {company}; applicants can find it again.", c.job.title),
        ),
    };
    let data = NotificationData {
        job_id: Some(c.job.id.clone()),
        company_id: Some(c.job.company_id.clone()),
        ..NotificationData::default()
    };
    Ok(to_each(
        companies::members::member_ids(app, &c.job.company_id).await?,
        &note(d, Kind::JobModeration, title, body, data),
    ))
}

/// What happened to an account's security: the account.
fn account(d: &Delivery) -> Vec<Planned> {
    use DomainEvent::*;
    match &d.event {
        PasswordChanged(u) | PasswordReset(u) => {
            let (title, body) = match &d.event {
                PasswordChanged(_) => (
                    "Your password was changed",
                    "Your other sessions were signed out. Not you? Reset your password now.",
                ),
                _ => ("Your password was reset", "All sessions were signed out. Not you? Contact support."),
            };
            to_each(
                vec![u.user_id.clone()],
                &note(d, Kind::AccountSecurity, title.into(), body.into(), NotificationData::default()),
            )
        }
        UserRoleChanged(a) | UserSuspended(a) => {
            let (title, body) = match &d.event {
                UserRoleChanged(_) => (
                    format!(
                        "Your account is now {} {} account",
                        if a.role.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
                            "an"
                        } else {
                            "a"
                        },
                        a.role.as_str()
                    ),
                    "An administrator changed your account's role; sign in again.".to_string(),
                ),
                _ => (
                    "Your account was suspended".to_string(),
                    "Contact support if you think this is a mistake.".to_string(),
                ),
            };
            to_each(
                vec![a.user_id.clone()],
                &note(d, Kind::AccountSecurity, title, body, NotificationData::default()),
            )
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_name_job_company_and_next_step() {
        let (title, body) = status_text(ApplicationStatus::Shortlisted, "Welder", "Acme");
        assert_eq!(title, "Welder at Acme: shortlisted");
        assert!(body.contains("interview"), "{body}");
        let (_, body) = status_text(ApplicationStatus::Rejected, "Welder", "Acme");
        assert!(body.contains("Acme") && body.contains("Welder"));
    }
}
