//! The application routes: authorize, idempotency, validated input, named store calls,
//! reply.

use crate::model::*;
use crate::rules;
use crate::rules::{Mover, Status};
use crate::store::*;
use common::api_doc::ErrorBody;
use common::cursor::{filtered_page, Filter, IndexQuery};
use common::db::{self, s};
use common::error::Problems;
use common::http::{authenticate, created, ok, parse_json, query_param, require_role, Request, Response};
use common::token::Role;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResumeChoice {
    /// The checked resume on the applicant's profile.
    Profile,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    /// At most 10,000 characters; may be empty.
    #[serde(default)]
    pub cover_letter: String,
    pub resume: Option<ResumeChoice>,
}

/// POST /jobs/{id}/applications
#[utoipa::path(post, path = "/jobs/{id}/applications", tag = "applications", request_body = Apply, security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ApplicationView), (status = 401, body = ErrorBody),
        (status = 403, description = "not a seeker, or a job of one's own company", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_applied` (details: `application_id`), `job_not_open`", body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "`quota_exceeded`: applications per seeker per day", body = ErrorBody)))]
pub async fn apply(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Seeker]).await?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &me.user_id).await? {
        return Ok(done);
    }
    let body: Apply = parse_json(&req)?;
    let job_id = common::http::id_param(&req, "id", "job")?;
    let missing = || ApiError::not_found("no such job");
    let mut p = Problems::default();
    let cover_letter = p
        .check(
            "cover_letter",
            common::values::optional_text(&body.cover_letter, rules::COVER_LETTER_MAX),
        )
        .flatten()
        .unwrap_or_default();
    p.into_result()?;
    let job = jobs::get(app, &job_id).await?.ok_or_else(missing)?;
    let now_secs = common::time::now_secs();
    if !job.accepting_applications(now_secs) {
        let why = match job.status_at(now_secs) {
            jobs::rules::JobStatus::Expired => "the application deadline has passed",
            _ => "this job does not take applications",
        };
        return Err(ApiError::conflict("job_not_open", why));
    }
    if companies::membership(app, &me.user_id, &job.company_id).await?.is_some() {
        return Err(ApiError::forbidden("you cannot apply to a job of your own company").with_code("own_company"));
    }
    let (applicant, resume_file) = applicant(app, &me.user_id).await?;
    let resume_file = match body.resume {
        Some(ResumeChoice::Profile) => Some(resume_file.ok_or_else(|| {
            ApiError::invalid_field(
                "resume",
                "your profile has no checked resume yet; upload one (POST /me/resume) first",
            )
        })?),
        None => None,
    };
    let scope = me.user_id.clone();
    let work = Box::pin(async move {
        let a = submit(app, &me, &job, cover_letter, applicant, resume_file.as_ref()).await?;
        created(&view(app, a, true).await?)
    });
    common::idempotency::run(app, &req, &scope, work).await
}

pub(crate) fn status_filter(req: &Request) -> ApiResult<(Filter, Option<Status>)> {
    let mut f = Filter::default();
    let status = match query_param(req, "status").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(Status::parse(&raw).ok_or_else(|| {
            ApiError::bad_request(
                "status must be one of submitted, reviewed, shortlisted, interviewing, offered, hired, rejected, withdrawn",
            )
            .with_code("invalid_filter")
        })?),
    };
    if let Some(st) = status {
        f.equals("status", s(st.as_str()));
    }
    Ok((f, status))
}

/// GET /jobs/{id}/applications: the job's applicants, newest first (company members).
#[utoipa::path(get, path = "/jobs/{id}/applications", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path), ("status" = Option<String>, Query), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ApplicationPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "no such job, or not the caller's company's", body = ErrorBody)))]
pub async fn of_job(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let missing = || ApiError::not_found("no such job");
    let job_id = common::http::id_param(&req, "id", "job")?;
    let (filter, status) = status_filter(&req)?;
    let job = jobs::get(app, &job_id).await?.ok_or_else(missing)?;
    if companies::membership(app, &me.user_id, &job.company_id).await?.is_none() {
        return Err(missing());
    }
    let context = format!("GET /jobs/{job_id}/applications?{status:?}");
    let page = filtered_page(app, &req, &context, IndexQuery::newest_first("GSI1", by_job(&job_id), filter)).await?;
    ok(&page_of(page.items, page.next_cursor)?)
}

/// GET /me/applications: the caller's applications, newest first.
#[utoipa::path(get, path = "/me/applications", tag = "applications", security(("bearer" = [])),
    params(("status" = Option<String>, Query), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "each with the job's title and company as of applying", body = ApplicationPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn mine(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Seeker]).await?;
    let (filter, status) = status_filter(&req)?;
    let context = format!("GET /me/applications?{}&{status:?}", me.user_id);
    let page = filtered_page(
        app,
        &req,
        &context,
        IndexQuery::newest_first("GSI2", by_seeker(&me.user_id), filter),
    )
    .await?;
    ok(&page_of(page.items, page.next_cursor)?)
}

/// GET /applications/{id}
#[utoipa::path(get, path = "/applications/{id}", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let (a, _) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    ok(&view(app, a, true).await?)
}

/// DELETE /applications/{id}: the applicant withdraws (from any open stage).
#[utoipa::path(delete, path = "/applications/{id}", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "withdrawn", body = ApplicationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition` (already final; details: `allowed`), `concurrent_change`", body = ErrorBody)))]
pub async fn withdraw(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    if viewer != Viewer::Applicant {
        return Err(ApiError::forbidden("only the applicant withdraws an application"));
    }
    let after = move_to(
        &a,
        Status::Withdrawn,
        &me,
        Mover::Applicant,
        None,
        auth::account::writes_by(app, &me),
    )
    .await?;
    ok(&view(app, after, false).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveApplication {
    pub status: Status,
    /// Internal to the company (kept in the history, never shown to the applicant).
    pub note: Option<String>,
}

/// PATCH /applications/{id}/status: the company moves the application one step.
#[utoipa::path(patch, path = "/applications/{id}/status", tag = "applications", request_body = MoveApplication, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition` (details: `allowed`), `concurrent_change`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_status(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let body: MoveApplication = parse_json(&req)?;
    let mut p = Problems::default();
    let note = p
        .check(
            "note",
            common::values::optional_text(body.note.as_deref().unwrap_or_default(), rules::NOTE_MAX),
        )
        .flatten();
    p.into_result()?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    if viewer != Viewer::Company {
        return Err(not_found());
    }
    let after = move_to(&a, body.status, &me, Mover::Company, note, auth::account::writes_by(app, &me)).await?;
    ok(&view(app, after, false).await?)
}

/// GET /applications/{id}/history: oldest first; the applicant does not see the company's notes.
#[utoipa::path(get, path = "/applications/{id}/history", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = History), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    let mut items: Vec<HistoryEntry> = children::<HistoryItem>(app, &a.id, "HIST#")
        .await?
        .into_iter()
        .map(|h| h.value)
        .collect();
    if viewer == Viewer::Applicant {
        for h in &mut items {
            h.hide_company_side();
        }
    }
    ok(&History { items })
}

/// GET /me/stats: seekers see their applications by status; employers their company's jobs
/// and applicants.
#[utoipa::path(get, path = "/me/stats", tag = "applications", security(("bearer" = [])),
    params(("company_id" = Option<String>, Query, description = "employers in several companies")),
    responses((status = 200, body = Stats), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stats(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    match me.role {
        Role::Seeker => {
            let item = app
                .dynamo()
                .get_item()
                .table_name(app.table())
                .set_key(Some(db::key(auth::account::partition(&me.user_id), "APPSTATS")))
                .send()
                .await?
                .item;
            ok(&Stats {
                applications: Some(counts_of(item)),
                jobs: None,
                applicants: None,
            })
        }
        Role::Employer => {
            let company = companies::of_caller(app, &me.user_id, query_param(&req, "company_id")).await?;
            let (job_counts, applicants) = match company {
                Some(c) => employer_stats(app, &c).await?,
                None => (
                    JobCounts {
                        total: 0,
                        by_status: BTreeMap::new(),
                    },
                    counts_of(None),
                ),
            };
            ok(&Stats {
                applications: None,
                jobs: Some(job_counts),
                applicants: Some(applicants),
            })
        }
        Role::Admin => Err(ApiError::forbidden("platform figures are at GET /admin/analytics")),
    }
}
