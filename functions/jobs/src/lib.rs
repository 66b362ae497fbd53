//! Jobs (API.md, "Jobs and applications", the job routes): employers post jobs for their
//! companies; anyone browses the open ones; admins moderate reported ones; a schedule
//! expires jobs whose deadline has passed.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | job | `JOB#<id>` | `JOB` | open only: GSI1 `OPENJOBS`, GSI2 `OPENJOBS#CAT#<slug>`, GSI4 `OPENJOBS#FEATURED` (featured) and GSI5 `OPENJOBS#DEADLINE` (with a deadline); always GSI3 `COMPANYJOBS#<company>` |
//! | report | `JOB#<id>` | `REPORT#<user id>` | |
//! | report queue entry | `JOB#<id>` | `REPORTS` | GSI1 `REPORTQUEUE` while unresolved |
//!
//! "Open" is the stored status `published`; a published job whose deadline has passed reads
//! as `expired` at once (checked on every read) and is stored as expired by the schedule.
//! The category's `open_job_count` changes in the same transaction as the job.

pub mod expiry;
pub mod listing;
pub mod moderation;
pub mod rules;

use std::collections::BTreeMap;

use common::api_doc::ErrorBody;
use common::audit::AuditEntry;
use common::db::{self, n};
use common::error::Problems;
use common::events::{Actor, DomainEvent, JobChanged};
use common::http::{authenticate, created, ok, parse_json, require_role, status_only, Request, Response};
use common::token::{Principal, Role};
use common::tx::{Cond, Tx, TxError};
use common::values::Salary;
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::{EmploymentType, ExperienceLevel, JobLocation, JobStatus, OwnerStatus, Workplace};

pub use common::vocab::{Job, Moderation};

/// What the jobs domain adds to the published job record.
pub trait JobRules {
    /// Counted in its category's `open_job_count` (the stored status, which the schedule
    /// moves to expired).
    fn counted(&self) -> bool;
    /// The job as a reader sees it now.
    fn view(self, now_secs: i64) -> JobView;
}

impl JobRules for Job {
    fn counted(&self) -> bool {
        self.status == JobStatus::Published
    }
    fn view(mut self, now_secs: i64) -> JobView {
        self.status = self.status_at(now_secs);
        let accepting = self.status == JobStatus::Published;
        self.suspended_from = None;
        JobView {
            job: self,
            accepting_applications: accepting,
        }
    }
}

/// A job with what follows from the time of reading.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    /// False for drafts, closed, expired (deadline passed) and suspended jobs.
    pub accepting_applications: bool,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct JobItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    #[serde(rename = "GSI3PK")]
    gsi3pk: String,
    #[serde(rename = "GSI3SK")]
    gsi3sk: String,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    #[serde(rename = "GSI5PK", default, skip_serializing_if = "Option::is_none")]
    gsi5pk: Option<String>,
    #[serde(rename = "GSI5SK", default, skip_serializing_if = "Option::is_none")]
    gsi5sk: Option<String>,
    /// Filter attributes (lists filter on them server-side).
    country_key: String,
    city_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deadline_ts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salary_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salary_year_min: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salary_year_max: Option<u64>,
    #[serde(flatten)]
    pub(crate) job: Job,
}

pub fn job_pk(id: &str) -> String {
    format!("JOB#{id}")
}
pub const JOB_SK: &str = "JOB";
pub(crate) const OPEN: &str = "OPENJOBS";
pub(crate) const FEATURED: &str = "OPENJOBS#FEATURED";
pub(crate) const DEADLINES: &str = "OPENJOBS#DEADLINE";
pub(crate) fn open_in_category(slug: &str) -> String {
    format!("OPENJOBS#CAT#{slug}")
}
pub(crate) fn of_company(company_id: &str) -> String {
    format!("COMPANYJOBS#{company_id}")
}

pub(crate) fn item(job: &Job) -> JobItem {
    let open = job.counted();
    let sort = format!("{}#{}", job.published_at.as_deref().unwrap_or(&job.created_at), job.id);
    let when = |on: bool, pk: String, sk: &str| if on { (Some(pk), Some(sk.to_string())) } else { (None, None) };
    let (gsi1pk, gsi1sk) = when(open, OPEN.into(), &sort);
    let (gsi2pk, gsi2sk) = when(open, open_in_category(&job.category), &sort);
    let (gsi4pk, gsi4sk) = when(open && job.featured, FEATURED.into(), &sort);
    let deadline_sort = job
        .application_deadline
        .as_deref()
        .map(|d| format!("{d}#{}", job.id))
        .unwrap_or_default();
    let (gsi5pk, gsi5sk) = when(open && job.application_deadline.is_some(), DEADLINES.into(), &deadline_sort);
    let yearly = job.salary.as_ref().map(rules::yearly_range);
    JobItem {
        pk: job_pk(&job.id),
        sk: JOB_SK.into(),
        entity: "job".into(),
        gsi1pk,
        gsi1sk,
        gsi2pk,
        gsi2sk,
        gsi3pk: of_company(&job.company_id),
        gsi3sk: format!("{}#{}", job.created_at, job.id),
        gsi4pk,
        gsi4sk,
        gsi5pk,
        gsi5sk,
        country_key: job.location.country.clone(),
        city_key: job.location.city.to_lowercase(),
        deadline_ts: job.deadline_secs(),
        salary_currency: job.salary.as_ref().map(|s| s.currency.clone()),
        salary_year_min: yearly.map(|y| y.0),
        salary_year_max: yearly.map(|y| y.1),
        job: job.clone(),
    }
}

pub async fn get(app: &App, id: &str) -> ApiResult<Option<Job>> {
    Ok(db::get::<JobItem>(app, job_pk(id), JOB_SK).await?.map(|i| i.job))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such job")
}

pub(crate) fn id_param(req: &Request) -> ApiResult<String> {
    common::http::id_param(req, "id", "job")
}

/// Who changed a job, for events and the audit log.
pub(crate) enum By<'a> {
    Member(&'a Principal),
    Admin(&'a Principal),
    Schedule,
}

/// Writes `after` (new, or replacing `before` if its version is unchanged) in one
/// transaction with the caller's live account check, the category counters, the event, the
/// audit entry of an admin action and the parts `extra` adds.
pub(crate) async fn commit(
    app: &App,
    before: Option<&Job>,
    after: &Job,
    event: fn(JobChanged) -> DomainEvent,
    by: By<'_>,
    reason: Option<String>,
    extra: impl FnOnce(Tx<'_>) -> Tx<'_>,
) -> ApiResult<()> {
    let tx = match &by {
        By::Member(p) | By::Admin(p) => auth::account::writes_by(app, p),
        By::Schedule => Tx::new(app),
    };
    let mut tx = match before {
        None => tx.put_new("job", &item(after)),
        Some(b) => tx.put_if("job", &item(after), Cond::new("version = :v").value(":v", n(b.version))),
    };

    // One operation per category item: the count change, with "must be active" when the job
    // newly enters it.
    let mut cats: BTreeMap<&str, (i64, bool)> = BTreeMap::new();
    if let Some(b) = before.filter(|b| b.counted()) {
        cats.entry(&b.category).or_default().0 -= 1;
    }
    if after.counted() {
        cats.entry(&after.category).or_default().0 += 1;
    }
    if before.is_none_or(|b| b.category != after.category) {
        cats.entry(&after.category).or_default().1 = true;
    }
    for (slug, (delta, must_be_active)) in &cats {
        tx = match (delta, must_be_active) {
            (0, true) => categories::active_check(tx, slug),
            (0, false) => tx,
            (d, active) => categories::count_open(tx, slug, *d, *active),
        };
    }

    let actor = match &by {
        By::Member(p) | By::Admin(p) => Actor::User { id: p.user_id.clone() },
        By::Schedule => Actor::System,
    };
    let event = event(JobChanged {
        job: after.clone(),
        previous_status: before.map(|b| b.status),
        reason,
    });
    if let By::Admin(p) = by {
        tx = tx.audit(&AuditEntry::new(p, event.kind(), "job", &after.id, before, Some(after)));
    }
    tx = tx.emit(actor, event);
    match extra(tx).commit().await {
        Err(TxError::Condition { part: "job", .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "the job changed meanwhile; reload and retry",
        )),
        Err(TxError::Condition { part: "category", .. }) => Err(ApiError::invalid_field("category", "no such active category")),
        other => Ok(other?),
    }
}

/// The caller may change the job's company's jobs (a member), else 404: a job someone
/// cannot change is one they are not told about.
async fn require_member(app: &App, actor: &Principal, company_id: &str) -> ApiResult<()> {
    match companies::membership(app, &actor.user_id, company_id).await? {
        Some(_) => Ok(()),
        None => Err(not_found()),
    }
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
    pub location: JobLocation,
    pub workplace: Workplace,
    pub employment_type: EmploymentType,
    pub experience_level: ExperienceLevel,
    pub salary: Option<Salary>,
    /// Slug of an active category.
    pub category: String,
    #[serde(default)]
    pub skills: Vec<String>,
    /// RFC 3339, in the future, within a year.
    pub application_deadline: Option<String>,
    #[serde(default)]
    pub featured: bool,
    /// `published` (the default) or `draft`.
    pub status: Option<OwnerStatus>,
}

/// The parsed text fields shared by create and update.
fn check_text(
    p: &mut Problems,
    field: &str,
    v: Option<&str>,
    f: fn(&str) -> Result<Option<String>, &'static str>,
) -> Option<Option<String>> {
    v.map(|v| p.check(field, f(v)).flatten())
}

fn category_slug(raw: &str) -> Result<String, &'static str> {
    categories::rules::Slug::parse(raw.trim())
        .map(|s| s.as_str().to_string())
        .ok_or("must be the slug of an active category")
}

/// POST /jobs
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = CreateJob, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = JobView), (status = 401, body = ErrorBody),
        (status = 403, description = "not an employer, or not a member of the company", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer])?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &actor.user_id).await? {
        return Ok(done);
    }
    let body: CreateJob = parse_json(&req)?;
    let now_secs = common::time::now_secs();
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
    let status = match body.status.unwrap_or(OwnerStatus::Published) {
        OwnerStatus::Draft => Some(JobStatus::Draft),
        OwnerStatus::Published => Some(JobStatus::Published),
        OwnerStatus::Closed => {
            p.add("status", "a new job is draft or published");
            None
        }
    };
    p.into_result()?;
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
        return Err(ApiError::internal("validated fields missing"));
    };
    if companies::membership(app, &actor.user_id, &company_id).await?.is_none() {
        return Err(ApiError::forbidden("only members of the company can post its jobs").with_code("not_a_member"));
    }
    let scope = actor.user_id.clone();
    let work = Box::pin(async move {
        let now = common::time::now_rfc3339();
        let job = Job {
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
            featured: body.featured,
            status,
            posted_by: actor.user_id.clone(),
            created_at: now.clone(),
            updated_at: now.clone(),
            published_at: (status == JobStatus::Published).then(|| now.clone()),
            closed_at: None,
            version: 1,
            moderation: None,
            suspended_from: None,
        };
        commit(app, None, &job, DomainEvent::JobCreated, By::Member(&actor), None, |tx| tx).await?;
        created(&job.view(now_secs))
    });
    common::idempotency::run(app, &req, &scope, work).await
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
    pub location: Option<JobLocation>,
    pub workplace: Option<Workplace>,
    pub employment_type: Option<EmploymentType>,
    pub experience_level: Option<ExperienceLevel>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<Salary>)]
    pub salary: Option<Option<Salary>>,
    pub category: Option<String>,
    pub skills: Option<Vec<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub application_deadline: Option<Option<String>>,
    pub featured: Option<bool>,
    /// `published` publishes a draft or reopens a closed or expired job (with a deadline in
    /// the future); `closed` closes it; `draft` only keeps a draft a draft.
    pub status: Option<OwnerStatus>,
}

/// Applies a PATCH body to `before`; field problems are 422, status problems 409.
fn apply(before: &Job, body: UpdateJob, now_secs: i64) -> ApiResult<Job> {
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
    if let Some(f) = body.featured {
        after.featured = f;
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
fn stamp(before: &Job, after: &mut Job) {
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
fn change_event(before: &Job, after: &Job) -> fn(JobChanged) -> DomainEvent {
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
        (status = 409, description = "`concurrent_change`, `invalid_status_change` (e.g. suspended)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer])?;
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
    let actor = require_role(app, &req, &[Role::Employer])?;
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
    let Ok(caller) = authenticate(app, req) else { return Ok(false) };
    Ok(match caller.role {
        Role::Admin => true,
        Role::Employer => companies::membership(app, &caller.user_id, &job.company_id).await?.is_some(),
        Role::Seeker => false,
    })
}

common::functions! {
    openapi(tags( (name = "jobs", description = "Job posts: employers post for their companies; anyone browses open ones"), (name = "moderation", description = "Reports of jobs and the admin queue") ));
    http {
        "jobs-create" => create,
        "jobs-read" => read,
        "jobs-update" => update,
        "jobs-close" => close,
        "jobs-list" => listing::list,
        "jobs-featured" => listing::featured,
        "jobs-mine" => listing::mine,
        "jobs-of-company" => listing::of_company_route,
        "jobs-of-category" => listing::of_category_route,
        "jobs-report" => moderation::report,
        "jobs-admin-reports" => moderation::queue,
        "jobs-admin-moderate" => moderation::moderate,
    }
    other {
        "jobs-expire" => common::runtime::Kind::Scheduled(expiry::handler),
    }
}
