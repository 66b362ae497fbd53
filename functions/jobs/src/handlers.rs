//! The job routes: authorize, idempotency, validated input, named store calls, reply.

use crate::model::*;
use crate::rules;
use crate::rules::{EmploymentType, ExperienceLevel, JobLocation, JobStatus, OwnerStatus, Workplace};
use crate::store::*;
use crate::Job;
use common::api_doc::ErrorBody;
use common::error::Problems;
use common::events::{DomainEvent, JobChanged};
use common::http::{authenticate, created, ok, parse_json, require_role, status_only, Request, Response};
use common::token::Role;
use common::values::Salary;
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("no such job")
}

pub(crate) fn id_param(req: &Request) -> ApiResult<String> {
    common::http::id_param(req, "id", "job")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// A company the caller is a member of.
    pub company_id: String,
    pub title: String,
    pub description: String,
    pub requirements: Option<String>,
    pub responsibilities: Option<String>,
    pub benefits: Option<String>,
    #[serde(deserialize_with = "common::values::object")]
    pub location: JobLocation,
    pub workplace: Workplace,
    pub employment_type: EmploymentType,
    pub experience_level: ExperienceLevel,
    #[serde(default, deserialize_with = "common::values::object_opt")]
    pub salary: Option<Salary>,
    /// Slug of an active category.
    pub category: String,
    #[serde(default)]
    pub skills: Vec<String>,
    /// RFC 3339, in the future, within a year.
    pub application_deadline: Option<String>,
    /// Not the owner's to send: admins feature jobs (PATCH /admin/jobs/{id}). Kept out of
    /// the document so a body giving it is refused with a message that says so (422).
    #[serde(default)]
    #[schema(ignore)]
    pub featured: Option<bool>,
    /// `published` (the default) or `draft`.
    pub status: Option<OwnerStatus>,
}

const FEATURED_BY_ADMINS: &str = "is set by the platform's admins (PATCH /admin/jobs/{id})";

/// The parsed text fields shared by create and update.
pub(crate) fn check_text(
    p: &mut Problems,
    field: &str,
    v: Option<&str>,
    f: fn(&str) -> Result<Option<String>, &'static str>,
) -> Option<Option<String>> {
    v.map(|v| p.check(field, f(v)).flatten())
}

pub(crate) fn category_slug(raw: &str) -> Result<String, &'static str> {
    categories::rules::Slug::parse(raw.trim())
        .map(|s| s.as_str().to_string())
        .ok_or("must be the slug of an active category")
}

/// POST /jobs
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = CreateJob, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = JobView), (status = 401, body = ErrorBody),
        (status = 403, description = "not an employer, or not a member of the company; `email_unverified` until the address is verified", body = ErrorBody),
        (status = 404, description = "no such company", body = ErrorBody),
        (status = 409, description = "`quota_exceeded`: the company has as many open jobs as it may", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer]).await?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &actor.user_id).await? {
        return Ok(done);
    }
    // Employers prove their address before they create companies or post jobs.
    auth::account::require_verified(app, &actor).await?;
    let body: CreateJob = parse_json(&req)?;
    let now_secs = common::time::now_secs();
    let job = new_job(body, now_secs)?;
    if companies::membership(app, &actor.user_id, &job.company_id).await?.is_none() {
        return Err(ApiError::forbidden("only members of the company can post its jobs").with_code("not_a_member"));
    }
    let scope = actor.user_id.clone();
    let work = Box::pin(async move {
        commit(app, None, &job, DomainEvent::JobCreated, By::Member(&actor), None, |tx| tx).await?;
        created(&job.view(now_secs))
    });
    common::idempotency::run(app, &req, &scope, work).await
}

/// The job a POST body describes, every field checked (all problems at once: 422).
fn new_job(body: CreateJob, now_secs: i64) -> ApiResult<Job> {
    let mut p = Problems::default();
    let company_id = p.check(
        "company_id",
        ulid::Ulid::from_string(body.company_id.trim())
            .map(|u| u.to_string())
            .map_err(|_| "must be a company id"),
    );
    let title = p.check("title", rules::title(&body.title));
    let description = p.check("description", rules::description(&body.description));
    let requirements = check_text(&mut p, "requirements", body.requirements.as_deref(), rules::section).flatten();
    let responsibilities = check_text(&mut p, "responsibilities", body.responsibilities.as_deref(), rules::section).flatten();
    let benefits = check_text(&mut p, "benefits", body.benefits.as_deref(), rules::section).flatten();
    let location = p.check("location", JobLocation::parse(&body.location));
    let salary = match &body.salary {
        Some(s) => p.check("salary", Salary::parse(s)).map(Some),
        None => Some(None),
    };
    let category = p.check("category", category_slug(&body.category));
    let skills = p.check("skills", rules::skills(&body.skills));
    let deadline = match &body.application_deadline {
        Some(d) => p.check("application_deadline", rules::deadline(d, now_secs)).map(Some),
        None => Some(None),
    };
    if body.featured.is_some() {
        p.add("featured", FEATURED_BY_ADMINS);
    }
    let status = match body.status.unwrap_or(OwnerStatus::Published) {
        OwnerStatus::Draft => Some(JobStatus::Draft),
        OwnerStatus::Published => Some(JobStatus::Published),
        OwnerStatus::Closed => {
            p.add("status", "a new job is draft or published");
            None
        }
    };
    let (
        Some(company_id),
        Some(title),
        Some(description),
        Some(location),
        Some(salary),
        Some(category),
        Some(skills),
        Some(deadline),
        Some(status),
    ) = (company_id, title, description, location, salary, category, skills, deadline, status)
    else {
        return Err(p.into_error());
    };
    p.into_result()?;
    let now = common::time::now_rfc3339();
    Ok(Job {
        id: ulid::Ulid::new().to_string(),
        company_id,
        title,
        description,
        requirements,
        responsibilities,
        benefits,
        location,
        workplace: body.workplace,
        employment_type: body.employment_type,
        experience_level: body.experience_level,
        salary,
        category,
        skills,
        application_deadline: deadline.map(|d| d.0),
        featured: false,
        status,
        created_at: now.clone(),
        updated_at: now.clone(),
        published_at: (status == JobStatus::Published).then(|| now.clone()),
        closed_at: None,
        version: 1,
        moderation: None,
        suspended_from: None,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateJob {
    pub title: Option<String>,
    pub description: Option<String>,
    /// For the optional fields, `null` clears them.
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub requirements: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub responsibilities: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub benefits: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::object_opt")]
    pub location: Option<JobLocation>,
    pub workplace: Option<Workplace>,
    pub employment_type: Option<EmploymentType>,
    pub experience_level: Option<ExperienceLevel>,
    #[serde(default, deserialize_with = "common::values::nullable_object")]
    #[schema(value_type = Option<Salary>)]
    pub salary: Option<Option<Salary>>,
    pub category: Option<String>,
    pub skills: Option<Vec<String>>,
    /// RFC 3339, in the future, within a year; `null` removes it.
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub application_deadline: Option<Option<String>>,
    /// Not the owner's to send, as in [`CreateJob`].
    #[serde(default)]
    #[schema(ignore)]
    pub featured: Option<bool>,
    /// `published` publishes a draft or reopens a closed or expired job (with a deadline in
    /// the future); `closed` closes it; `draft` only keeps a draft a draft.
    pub status: Option<OwnerStatus>,
}

/// Applies a PATCH body to `before`; field problems are 422, status problems 409.
pub(crate) fn apply(before: &Job, body: UpdateJob, now_secs: i64) -> ApiResult<Job> {
    let mut p = Problems::default();
    let mut after = before.clone();
    if let Some(t) = body.title.as_deref().and_then(|t| p.check("title", rules::title(t))) {
        after.title = t;
    }
    if let Some(d) = body
        .description
        .as_deref()
        .and_then(|d| p.check("description", rules::description(d)))
    {
        after.description = d;
    }
    let section = |p: &mut Problems, field: &str, v: Option<Option<String>>, slot: &mut Option<String>| {
        if let Some(v) = v {
            if let Some(v) = p.check(field, rules::section(v.as_deref().unwrap_or_default())) {
                *slot = v;
            }
        }
    };
    section(&mut p, "requirements", body.requirements, &mut after.requirements);
    section(&mut p, "responsibilities", body.responsibilities, &mut after.responsibilities);
    section(&mut p, "benefits", body.benefits, &mut after.benefits);
    if let Some(l) = body.location.as_ref().and_then(|l| p.check("location", JobLocation::parse(l))) {
        after.location = l;
    }
    if let Some(w) = body.workplace {
        after.workplace = w;
    }
    if let Some(e) = body.employment_type {
        after.employment_type = e;
    }
    if let Some(e) = body.experience_level {
        after.experience_level = e;
    }
    match body.salary {
        Some(Some(s)) => {
            if let Some(s) = p.check("salary", Salary::parse(&s)) {
                after.salary = Some(s);
            }
        }
        Some(None) => after.salary = None,
        None => {}
    }
    if let Some(c) = body.category.as_deref().and_then(|c| p.check("category", category_slug(c))) {
        after.category = c;
    }
    if let Some(s) = body.skills.as_deref().and_then(|s| p.check("skills", rules::skills(s))) {
        after.skills = s;
    }
    match body.application_deadline {
        Some(Some(d)) => {
            if let Some((d, _)) = p.check("application_deadline", rules::deadline(&d, now_secs)) {
                after.application_deadline = Some(d);
            }
        }
        Some(None) => after.application_deadline = None,
        None => {}
    }
    if body.featured.is_some() {
        p.add("featured", FEATURED_BY_ADMINS);
    }
    if let Some(to) = body.status {
        match rules::owner_transition(before.status_at(now_secs), to) {
            Ok(s) => after.status = s,
            Err(why) => return Err(ApiError::conflict("invalid_status_change", why)),
        }
    }
    if after.status == JobStatus::Published && after.deadline_secs().is_some_and(|d| d <= now_secs) {
        p.add("application_deadline", "has passed; set a later one (or none) to publish the job");
    }
    p.into_result()?;
    Ok(after)
}

/// Stamps a changed job: new version and times.
pub(crate) fn stamp(before: &Job, after: &mut Job) {
    let now = common::time::now_rfc3339();
    after.version = before.version + 1;
    after.updated_at = now.clone();
    if after.status == JobStatus::Published && before.status != JobStatus::Published {
        after.published_at = Some(now.clone());
        after.closed_at = None;
    }
    if after.status == JobStatus::Closed && before.status != JobStatus::Closed {
        after.closed_at = Some(now);
    }
}

/// The event of an owner's change.
pub(crate) fn change_event(before: &Job, after: &Job) -> fn(JobChanged) -> DomainEvent {
    if after.status == JobStatus::Closed && before.status != JobStatus::Closed {
        DomainEvent::JobClosed
    } else {
        DomainEvent::JobUpdated
    }
}

/// PATCH /jobs/{id}: changes only the fields sent.
#[utoipa::path(patch, path = "/jobs/{id}", tag = "jobs", request_body = UpdateJob, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, description = "not an employer", body = ErrorBody),
        (status = 404, description = "no such job, or not one of the caller's companies'", body = ErrorBody),
        (status = 409, description = "`concurrent_change`, `invalid_status_change` (e.g. suspended), `quota_exceeded` (publishing or reopening past the company's open jobs)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer]).await?;
    let body: UpdateJob = parse_json(&req)?;
    let id = id_param(&req)?;
    let before = get(app, &id).await?.ok_or_else(not_found)?;
    require_member(app, &actor, &before.company_id).await?;
    let now_secs = common::time::now_secs();
    if before.status == JobStatus::Suspended {
        return Err(ApiError::conflict("invalid_status_change", "the job is suspended by a moderator"));
    }
    let mut after = apply(&before, body, now_secs)?;
    if after == before {
        return ok(&before.view(now_secs));
    }
    stamp(&before, &mut after);
    let event = change_event(&before, &after);
    commit(app, Some(&before), &after, event, By::Member(&actor), None, |tx| tx).await?;
    ok(&after.view(now_secs))
}

/// DELETE /jobs/{id}: closes the job (it stays readable; no more applications).
#[utoipa::path(delete, path = "/jobs/{id}", tag = "jobs", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "closed (idempotent)"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "suspended", body = ErrorBody)))]
pub async fn close(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer]).await?;
    let id = id_param(&req)?;
    let before = get(app, &id).await?.ok_or_else(not_found)?;
    require_member(app, &actor, &before.company_id).await?;
    if before.status == JobStatus::Closed {
        return status_only(StatusCode::NO_CONTENT);
    }
    let mut after = before.clone();
    match rules::owner_transition(before.status, OwnerStatus::Closed) {
        Ok(s) => after.status = s,
        Err(why) => return Err(ApiError::conflict("invalid_status_change", why)),
    }
    stamp(&before, &mut after);
    commit(app, Some(&before), &after, DomainEvent::JobClosed, By::Member(&actor), None, |tx| {
        tx
    })
    .await?;
    status_only(StatusCode::NO_CONTENT)
}

/// GET /jobs/{id}: anyone reads published, closed and expired jobs; drafts and suspended
/// jobs only the company's members and admins.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn read(app: &'static App, req: Request) -> ApiResult<Response> {
    let id = id_param(&req)?;
    let job = get(app, &id).await?.ok_or_else(not_found)?;
    if !job.status.is_public() && !may_see_hidden(app, &req, &job).await? {
        return Err(not_found());
    }
    ok(&job.view(common::time::now_secs()))
}

/// Whether the caller (if any) may see a draft or suspended job: an admin or a member.
pub(crate) async fn may_see_hidden(app: &App, req: &Request, job: &Job) -> ApiResult<bool> {
    let Ok(caller) = authenticate(app, req).await else {
        return Ok(false);
    };
    Ok(match caller.role {
        Role::Admin => true,
        Role::Employer => companies::membership(app, &caller.user_id, &job.company_id).await?.is_some(),
        Role::Seeker => false,
    })
}
