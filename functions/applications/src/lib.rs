//! Applications (API.md, "Jobs and applications"): seekers apply to open jobs; the job's
//! company moves applications through the hiring pipeline and schedules interviews; both
//! sides see what is theirs to see.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | application | `APP#<id>` | `APP` | GSI1 `JOBAPPS#<job>` / `<submitted_at>#<id>`; GSI2 `USERAPPS#<seeker>` / `<submitted_at>#<id>` |
//! | one-per-seeker guard | `JOB#<job>` | `APPLICANT#<seeker>` | |
//! | status history entry | `APP#<id>` | `HIST#<at>#<ulid>` | |
//! | interview | `APP#<id>` | `INTERVIEW#<id>` | GSI3 `INTERVIEW#<id>` / `INTERVIEW` |
//! | job applicant counters | `JOB#<job>` | `STATS` | |
//! | seeker application counters | `USER#<seeker>` | `APPSTATS` | |
//! | profile grant (private profile open to the company) | `USER#<seeker>` | `GRANT#COMPANY#<company>` | |
//!
//! Every change is one transaction with its history entry, counters and event.

pub mod interviews;
pub mod rules;

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use common::api_doc::ErrorBody;
use common::cursor::{filtered_page, Filter, IndexQuery, Page};
use common::db::{self, n, s, Item};
use common::error::Problems;
use common::events::{Actor, ApplicationMoved, ApplicationRef, DomainEvent};
use common::http::{authenticate, created, ok, parse_json, query_param, require_role, Request, Response};
use common::token::{Principal, Role};
use common::tx::{Cond, Tx, TxError};
use common::values::Location;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::{Mover, Status};

/// A snapshot of the resume the application was sent with (a copy of the file, so a new
/// upload or an erased profile does not change what the company received).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResumeRef {
    pub content_type: String,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub key: String,
}

/// The applicant as the company sees them, as of applying.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApplicantSummary {
    pub user_id: String,
    pub full_name: String,
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub job_id: String,
    pub company_id: String,
    /// The job's title when the application was sent.
    pub job_title: String,
    pub cover_letter: String,
    #[serde(default)]
    pub resume: Option<ResumeRef>,
    pub applicant: ApplicantSummary,
    pub status: Status,
    /// Bumped by every change (optimistic concurrency).
    pub version: u64,
    pub submitted_at: String,
    pub updated_at: String,
}

impl Application {
    /// Which application events about it name.
    pub fn event_ref(&self) -> ApplicationRef {
        ApplicationRef {
            application_id: self.id.clone(),
            job_id: self.job_id.clone(),
            company_id: self.company_id.clone(),
            seeker_id: self.applicant.user_id.clone(),
            job_title: self.job_title.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct AppItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    seeker_id: String,
    #[serde(flatten)]
    app: Application,
}

pub fn app_pk(id: &str) -> String {
    format!("APP#{id}")
}
const APP_SK: &str = "APP";
pub fn by_job(job_id: &str) -> String {
    format!("JOBAPPS#{job_id}")
}
pub fn by_seeker(seeker_id: &str) -> String {
    format!("USERAPPS#{seeker_id}")
}
fn guard_key(job_id: &str, seeker_id: &str) -> Item {
    db::key(jobs::job_pk(job_id), format!("APPLICANT#{seeker_id}"))
}

fn item(a: &Application) -> AppItem {
    let sort = format!("{}#{}", a.submitted_at, a.id);
    AppItem {
        pk: app_pk(&a.id),
        sk: APP_SK.into(),
        entity: "application".into(),
        gsi1pk: by_job(&a.job_id),
        gsi1sk: sort.clone(),
        gsi2pk: by_seeker(&a.applicant.user_id),
        gsi2sk: sort,
        seeker_id: a.applicant.user_id.clone(),
        app: a.clone(),
    }
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("no such application")
}

pub async fn get(app: &App, id: &str) -> ApiResult<Option<Application>> {
    Ok(db::get::<AppItem>(app, app_pk(id), APP_SK).await?.map(|i| i.app))
}

/// How the caller relates to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Applicant,
    /// A member of the job's company (or an admin, read only).
    Company,
}

/// The application `id` if the caller may see it, and as whom; 404 otherwise.
pub(crate) async fn load_for(app: &App, caller: &Principal, id: &str) -> ApiResult<(Application, Viewer)> {
    let a = get(app, id).await?.ok_or_else(not_found)?;
    let viewer = match caller.role {
        Role::Seeker if a.applicant.user_id == caller.user_id => Viewer::Applicant,
        Role::Employer if companies::membership(app, &caller.user_id, &a.company_id).await?.is_some() => Viewer::Company,
        Role::Admin => Viewer::Company,
        _ => return Err(not_found()),
    };
    Ok((a, viewer))
}

/// Counter updates of a status change (or of a new application when `from` is `None`):
/// on the job's `STATS` and the seeker's `APPSTATS`.
fn counters(table: &str, a: &Application, from: Option<Status>, to: Status) -> ApiResult<Vec<TransactWriteItem>> {
    let mut out = Vec::new();
    for key in [
        db::key(jobs::job_pk(&a.job_id), "STATS"),
        db::key(auth::account::partition(&a.applicant.user_id), "APPSTATS"),
    ] {
        let mut expr = String::from("SET entity = :e ADD #to :one");
        let mut u = Update::builder()
            .table_name(table)
            .set_key(Some(key))
            .expression_attribute_names("#to", to.as_str())
            .expression_attribute_values(":e", s("app_stats"))
            .expression_attribute_values(":one", n(1));
        match from {
            Some(f) => {
                expr.push_str(", #from :minus");
                u = u
                    .expression_attribute_names("#from", f.as_str())
                    .expression_attribute_values(":minus", n(-1));
            }
            None => {
                expr.push_str(", #total :one");
                u = u.expression_attribute_names("#total", "total");
            }
        }
        out.push(
            TransactWriteItem::builder()
                .update(u.update_expression(expr).build().map_err(db::internal)?)
                .build(),
        );
    }
    Ok(out)
}

/// A status history entry: who moved it, when, from and to; `note` is the company's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    #[serde(default)]
    pub from: Option<Status>,
    pub to: Status,
    pub actor_id: String,
    /// `applicant` or `company`.
    pub by: String,
    /// Internal to the company: never shown to the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct HistoryItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: HistoryEntry,
}

fn history_put(table: &str, app_id: &str, entry: &HistoryEntry) -> ApiResult<TransactWriteItem> {
    let item = HistoryItem {
        pk: app_pk(app_id),
        sk: format!("HIST#{}#{}", entry.at, ulid::Ulid::new()),
        entity: "app_history".into(),
        entry: entry.clone(),
    };
    let p = Put::builder()
        .table_name(table)
        .set_item(Some(db::to_item(&item)?))
        .build()
        .map_err(db::internal)?;
    Ok(TransactWriteItem::builder().put(p).build())
}

/// Moves `before` to `to` in one transaction: the application (if its version is unchanged),
/// the history entry, the counters and the event, added to `tx` (which starts with the
/// caller's account check and may hold more parts). 409 when someone else moved it first.
pub(crate) async fn move_to(
    app: &App,
    before: &Application,
    to: Status,
    actor: &Principal,
    mover: Mover,
    note: Option<String>,
    tx: Tx<'_>,
) -> ApiResult<Application> {
    if let Err(allowed) = rules::check_move(before.status, to, mover) {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("an application that is {} cannot become {}", before.status.as_str(), to.as_str()),
        )
        .with_details(serde_json::json!({ "allowed": allowed })));
    }
    let now = common::time::now_rfc3339();
    let mut after = before.clone();
    after.status = to;
    after.version += 1;
    after.updated_at = now.clone();
    let table = app.table();
    let entry = HistoryEntry {
        at: now,
        from: Some(before.status),
        to,
        actor_id: actor.user_id.clone(),
        by: if mover == Mover::Applicant {
            "applicant".into()
        } else {
            "company".into()
        },
        note,
    };
    let moved = ApplicationMoved {
        application: after.event_ref(),
        from: before.status,
        to,
    };
    let event = if to == Status::Withdrawn {
        DomainEvent::ApplicationWithdrawn(moved)
    } else {
        DomainEvent::ApplicationStatusChanged(moved)
    };
    let tx = tx
        .put_if(
            "application",
            &item(&after),
            Cond::new("version = :v").value(":v", n(before.version)),
        )
        .try_part("history", history_put(table, &after.id, &entry))
        .parts("counters", counters(table, &after, Some(before.status), to)?)
        .emit(Actor::user(&actor.user_id), event);
    match tx.commit().await {
        Err(TxError::Condition { .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "the application changed meanwhile; reload and retry",
        )),
        other => {
            other?;
            Ok(after)
        }
    }
}

/// An application as its reader sees it, with a short-lived link to the resume sent.
#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    #[serde(flatten)]
    pub application: Application,
    /// Download link of the resume sent (5 minutes).
    pub resume_url: Option<String>,
}

pub(crate) async fn view(app: &App, a: Application, with_link: bool) -> ApiResult<ApplicationView> {
    let resume_url = match (&a.resume, with_link) {
        (Some(r), true) => {
            let ext = r.key.rsplit('.').next().unwrap_or("pdf");
            Some(
                files::download_url(app, &r.key, &r.content_type, &format!("resume.{ext}"), files::DOWNLOAD_URL_SECS)
                    .await?
                    .0,
            )
        }
        _ => None,
    };
    let mut application = a;
    if let Some(r) = &mut application.resume {
        r.key.clear();
    }
    Ok(ApplicationView { application, resume_url })
}

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

#[derive(Deserialize, Default)]
struct ProfilePart {
    #[serde(default)]
    headline: Option<String>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    skills: Vec<String>,
}

/// POST /jobs/{id}/applications
#[utoipa::path(post, path = "/jobs/{id}/applications", tag = "applications", request_body = Apply, security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ApplicationView), (status = 401, body = ErrorBody),
        (status = 403, description = "not a seeker, or a job of one's own company", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_applied` (details: `application_id`), `job_not_open`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Seeker])?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &me.user_id).await? {
        return Ok(done);
    }
    let body: Apply = parse_json(&req)?;
    let job_id = common::http::id_param(&req, "id", "job")?;
    let missing = || ApiError::not_found("no such job");
    let job_id = ulid::Ulid::from_string(&job_id).map_err(|_| missing())?.to_string();
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
    let user_pk = auth::account::partition(&me.user_id);
    let mut found = db::get_many(
        app,
        vec![
            auth::account::key(&me.user_id),
            db::key(&user_pk, "PROFILE"),
            files::file_key(&me.user_id, files::rules::Kind::Resume),
        ],
    )
    .await?
    .into_iter();
    let account: auth::account::Summary = found
        .next()
        .flatten()
        .map(db::from_item)
        .transpose()?
        .ok_or_else(auth::account::gone)?;
    let profile: ProfilePart = found.next().flatten().map(db::from_item).transpose()?.unwrap_or_default();
    let resume_file = files::state_of(found.next().flatten())?.current;
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
        let now = common::time::now_rfc3339();
        let id = ulid::Ulid::new().to_string();
        // The resume as it is now, copied for this application.
        let resume = match &resume_file {
            Some(f) => {
                let ext = f.key.rsplit('.').next().unwrap_or("pdf");
                let key = format!("applications/{id}/resume.{ext}");
                files::copy(app, &f.key, &key, &f.content_type).await?;
                Some(ResumeRef {
                    content_type: f.content_type.clone(),
                    size_bytes: f.size_bytes,
                    key,
                })
            }
            None => None,
        };
        let a = Application {
            id: id.clone(),
            job_id: job.id.clone(),
            company_id: job.company_id.clone(),
            job_title: job.title.clone(),
            cover_letter,
            resume,
            applicant: ApplicantSummary {
                user_id: me.user_id.clone(),
                full_name: account.full_name,
                headline: profile.headline,
                location: profile.location,
                skills: profile.skills,
            },
            status: Status::Submitted,
            version: 1,
            submitted_at: now.clone(),
            updated_at: now.clone(),
        };
        let table = app.table();
        let open = Cond::new("#st = :published AND (attribute_not_exists(deadline_ts) OR deadline_ts > :now)")
            .name("#st", "status")
            .value(":published", s("published"))
            .value(":now", n(common::time::now_secs()));
        let mut guard_item = guard_key(&job.id, &me.user_id);
        guard_item.insert("entity".into(), s("applicant_guard"));
        guard_item.insert("application_id".into(), s(&id));
        let entry = HistoryEntry {
            at: now,
            from: None,
            to: Status::Submitted,
            actor_id: me.user_id.clone(),
            by: "applicant".into(),
            note: None,
        };
        let event = DomainEvent::ApplicationSubmitted(a.event_ref());
        let grant = ProfileGrant {
            pk: auth::account::partition(&me.user_id),
            sk: grant_sk(&a.company_id),
            entity: "profile_grant",
            company_id: &a.company_id,
            application_id: &a.id,
            granted_at: &a.submitted_at,
        };
        let tx = auth::account::writes_by(app, &me)
            .check("job_open", db::key(jobs::job_pk(&job.id), jobs::JOB_SK), open)
            .put_item("guard", guard_item, Some(Cond::absent()))
            .returning_item()
            .put_new("application", &item(&a))
            .try_part("history", history_put(table, &a.id, &entry))
            .parts("counters", counters(table, &a, None, Status::Submitted)?)
            .put("grant", &grant)
            .emit(Actor::user(&me.user_id), event);
        if let Err(e) = tx.commit().await {
            if let Some(r) = &a.resume {
                let _ = files::delete(app, &r.key).await;
            }
            return Err(match e {
                TxError::Condition { part: "job_open", .. } => ApiError::conflict("job_not_open", "this job does not take applications"),
                TxError::Condition { part: "guard", item } => ApiError::conflict("already_applied", "you have applied to this job already")
                    .with_details(serde_json::json!({
                        "application_id": item.as_ref().and_then(|i| db::get_s(i, "application_id"))
                    })),
                other => other.into(),
            });
        }
        created(&view(app, a, true).await?)
    });
    common::idempotency::run(app, &req, &scope, work).await
}

fn status_filter(req: &Request) -> ApiResult<(Filter, Option<Status>)> {
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

#[derive(Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<Application>,
    pub next_cursor: Option<String>,
}

fn page_of(items: Vec<Item>, next_cursor: Option<String>) -> ApiResult<Page<Application>> {
    let items = items
        .into_iter()
        .map(|i| {
            db::from_item::<AppItem>(i).map(|a| {
                let mut a = a.app;
                if let Some(r) = &mut a.resume {
                    r.key.clear();
                }
                a
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Page { items, next_cursor })
}

/// GET /jobs/{id}/applications: the job's applicants, newest first (company members).
#[utoipa::path(get, path = "/jobs/{id}/applications", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path), ("status" = Option<String>, Query), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ApplicationPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "no such job, or not the caller's company's", body = ErrorBody)))]
pub async fn of_job(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer])?;
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
    let me = require_role(app, &req, &[Role::Seeker])?;
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
    let me = authenticate(app, &req)?;
    let (a, _) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    ok(&view(app, a, true).await?)
}

/// DELETE /applications/{id}: the applicant withdraws (from any open stage).
#[utoipa::path(delete, path = "/applications/{id}", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "withdrawn", body = ApplicationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition` (already final; details: `allowed`), `concurrent_change`", body = ErrorBody)))]
pub async fn withdraw(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req)?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    if viewer != Viewer::Applicant {
        return Err(ApiError::forbidden("only the applicant withdraws an application"));
    }
    let after = move_to(
        app,
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
    let me = require_role(app, &req, &[Role::Employer])?;
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
    let after = move_to(app, &a, body.status, &me, Mover::Company, note, auth::account::writes_by(app, &me)).await?;
    ok(&view(app, after, false).await?)
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryEntry>,
}

/// GET /applications/{id}/history: oldest first; the applicant does not see the company's notes.
#[utoipa::path(get, path = "/applications/{id}/history", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = History), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req)?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    let mut items: Vec<HistoryEntry> = children::<HistoryItem>(app, &a.id, "HIST#")
        .await?
        .into_iter()
        .map(|h| h.entry)
        .collect();
    if viewer == Viewer::Applicant {
        for h in &mut items {
            h.note = None;
        }
    }
    ok(&History { items })
}

/// Items of an application's partition whose sort key starts with `prefix`, in order.
pub(crate) async fn children<T: serde::de::DeserializeOwned>(app: &App, app_id: &str, prefix: &str) -> ApiResult<Vec<T>> {
    db::query_all(app, None, app_pk(app_id), Some(prefix))
        .await?
        .into_iter()
        .map(db::from_item)
        .collect()
}

/// A seeker's applications (all pages of GSI2 `USERAPPS#<seeker>`).
async fn of_seeker(app: &App, seeker_id: &str) -> ApiResult<Vec<Application>> {
    db::query_all(app, Some("GSI2"), by_seeker(seeker_id), None)
        .await?
        .into_iter()
        .map(|i| db::from_item::<AppItem>(i).map(|a| a.app))
        .collect()
}

/// Applications counted by status.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
}

fn counts_of(item: Option<Item>) -> StatusCounts {
    let mut c = StatusCounts::default();
    if let Some(i) = item {
        c.total = db::get_n(&i, "total").unwrap_or(0);
        for st in Status::ALL {
            c.by_status.insert(st.as_str().into(), db::get_n(&i, st.as_str()).unwrap_or(0));
        }
    } else {
        for st in Status::ALL {
            c.by_status.insert(st.as_str().into(), 0);
        }
    }
    c
}

#[derive(Serialize, ToSchema)]
pub struct JobCounts {
    pub total: i64,
    /// Jobs by status as readers see it (`expired` included).
    pub by_status: BTreeMap<String, i64>,
}

/// GET /me/stats
#[derive(Serialize, ToSchema)]
pub struct Stats {
    /// Seekers: their applications by status.
    pub applications: Option<StatusCounts>,
    /// Employers: their company's jobs by status.
    pub jobs: Option<JobCounts>,
    /// Employers: applicants to their company's jobs by status.
    pub applicants: Option<StatusCounts>,
}

/// GET /me/stats: seekers see their applications by status; employers their company's jobs
/// and applicants.
#[utoipa::path(get, path = "/me/stats", tag = "applications", security(("bearer" = [])),
    params(("company_id" = Option<String>, Query, description = "employers in several companies")),
    responses((status = 200, body = Stats), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stats(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req)?;
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

/// A company's jobs by status (one Query of its job index) and its applicants by status
/// (the jobs' counters, read 100 at a time).
async fn employer_stats(app: &App, company_id: &str) -> ApiResult<(JobCounts, StatusCounts)> {
    let now = common::time::now_secs();
    let mut jobs_by: BTreeMap<String, i64> = BTreeMap::new();
    let mut ids = Vec::new();
    for i in db::query_all(app, Some("GSI3"), format!("COMPANYJOBS#{company_id}"), None).await? {
        let job: jobs::Job = db::from_item(i)?;
        *jobs_by.entry(job.status_at(now).as_str().to_string()).or_default() += 1;
        ids.push(job.id);
    }
    let mut applicants = counts_of(None);
    for chunk in ids.chunks(100) {
        let keys: Vec<Item> = chunk.iter().map(|id| db::key(jobs::job_pk(id), "STATS")).collect();
        for stats in db::batch_get(app, keys).await? {
            let c = counts_of(Some(stats));
            applicants.total += c.total;
            for (k, v) in c.by_status {
                *applicants.by_status.entry(k).or_default() += v;
            }
        }
    }
    Ok((
        JobCounts {
            total: ids.len() as i64,
            by_status: jobs_by,
        },
        applicants,
    ))
}

/// The grant an application writes: the seeker's private profile is open to the company
/// (kept after a withdrawal: the company saw the application; erased with the account).
#[derive(Serialize)]
struct ProfileGrant<'a> {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: &'static str,
    company_id: &'a str,
    application_id: &'a str,
    granted_at: &'a str,
}

fn grant_sk(company_id: &str) -> String {
    format!("GRANT#COMPANY#{company_id}")
}

fn grant_key(seeker_id: &str, company_id: &str) -> Item {
    db::key(auth::account::partition(seeker_id), grant_sk(company_id))
}

/// Whether `seeker_id` has applied to a job of one of `company_ids` (their private profile
/// opens to those companies): the grants of those companies, in one BatchGetItem.
pub async fn applied_to_any(app: &App, seeker_id: &str, company_ids: &[String]) -> ApiResult<bool> {
    if company_ids.is_empty() {
        return Ok(false);
    }
    let keys = company_ids.iter().take(100).map(|c| grant_key(seeker_id, c)).collect();
    Ok(!db::batch_get(app, keys).await?.is_empty())
}

/// The keys of a seeker's applications with their history, interviews and guards, for the
/// account erasure to delete; deletes the resume copies. The jobs' counters keep the numbers.
pub async fn erase_seeker(app: &App, seeker_id: &str) -> ApiResult<Vec<Item>> {
    let mut keys = Vec::new();
    for a in of_seeker(app, seeker_id).await? {
        if let Some(r) = &a.resume {
            files::delete(app, &r.key).await?;
        }
        keys.push(guard_key(&a.job_id, seeker_id));
        keys.extend(db::query_all(app, None, app_pk(&a.id), None).await?.iter().map(db::key_of));
    }
    Ok(keys)
}

/// Everything of a seeker's applications for their data export: each with its history
/// (without the company's notes) and interviews (without feedback).
pub async fn export_seeker(app: &App, seeker_id: &str) -> ApiResult<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for mut a in of_seeker(app, seeker_id).await? {
        if let Some(r) = &mut a.resume {
            r.key.clear();
        }
        let history: Vec<HistoryEntry> = children::<HistoryItem>(app, &a.id, "HIST#")
            .await?
            .into_iter()
            .map(|mut h| {
                h.entry.note = None;
                h.entry
            })
            .collect();
        let interviews: Vec<interviews::InterviewView> = interviews::of_application(app, &a.id)
            .await?
            .into_iter()
            .map(|i| i.for_viewer(Viewer::Applicant))
            .collect();
        out.push(serde_json::json!({"application": a, "history": history, "interviews": interviews}));
    }
    Ok(out)
}

common::functions! {
    openapi(tags((name = "applications", description = "Applying, the hiring pipeline, interviews")));
    http {
        "applications-apply" => apply,
        "applications-of-job" => of_job,
        "applications-mine" => mine,
        "applications-read" => read,
        "applications-withdraw" => withdraw,
        "applications-move" => move_status,
        "applications-history" => history,
        "applications-interviews-create" => interviews::schedule,
        "applications-interviews-list" => interviews::list,
        "applications-interviews-update" => interviews::update,
        "applications-stats" => stats,
    }
}
