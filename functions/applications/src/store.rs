//! Applications in the table: keys, items, reads, the counters and history written with
//! every move, the profile grants, and what export and erasure take.

use crate::model::*;
use crate::rules::{Mover, Status};
use crate::{interviews, rules};
use common::cursor::Page;
use common::db::{self, n, s, Item, Keyed};
use common::events::{Actor, ApplicationMoved, DomainEvent};
use common::token::{Principal, Role};
use common::tx::{Cond, Tx, TxError};
use common::values::Location;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An application as stored: listed by job (GSI1) and by seeker (GSI2), newest last.
pub(crate) type AppItem = Keyed<Application>;

pub fn app_pk(id: &str) -> String {
    format!("APP#{id}")
}
pub(crate) const APP_SK: &str = "APP";
pub fn by_job(job_id: &str) -> String {
    format!("JOBAPPS#{job_id}")
}
pub fn by_seeker(seeker_id: &str) -> String {
    format!("USERAPPS#{seeker_id}")
}
pub(crate) fn guard_key(job_id: &str, seeker_id: &str) -> Item {
    db::key(jobs::job_pk(job_id), format!("APPLICANT#{seeker_id}"))
}

pub(crate) fn item(a: &Application) -> AppItem {
    let sort = format!("{}#{}", a.submitted_at, a.id);
    Keyed::new(app_pk(&a.id), APP_SK, "application", a.clone())
        .in_index(1, by_job(&a.job_id), sort.clone())
        .in_index(2, by_seeker(&a.applicant.user_id), sort)
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("no such application")
}

pub async fn get(app: &App, id: &str) -> ApiResult<Option<Application>> {
    Ok(db::get::<AppItem>(app, app_pk(id), APP_SK).await?.map(|i| i.value))
}

/// The application `id` if the caller may see it, and as whom; 404 otherwise.
pub(crate) async fn load_for(app: &App, caller: &Principal, id: &str) -> ApiResult<(Application, Viewer)> {
    let a = get(app, id).await?.ok_or_else(not_found)?;
    let viewer = match caller.role {
        Role::Seeker if a.applicant.user_id == caller.user_id => Viewer::Applicant,
        Role::Employer if companies::membership(app, &caller.user_id, &a.company_id).await?.is_some() => Viewer::Company,
        Role::Admin => {
            // Admins read applications (and their resume links) only on the record.
            common::audit::admin_read(app, caller, "application", &a.id, serde_json::json!({})).await?;
            Viewer::Company
        }
        _ => return Err(not_found()),
    };
    Ok((a, viewer))
}

/// Counter updates of a status change (or of a new application when `from` is `None`):
/// on the job's `STATS` and the seeker's `APPSTATS` (parts `job_counters`, `seeker_counters`).
pub(crate) fn counters<'a>(tx: Tx<'a>, a: &Application, from: Option<Status>, to: Status) -> Tx<'a> {
    let add = || {
        let u = Cond::default()
            .name("#to", to.as_str())
            .value(":e", s("app_stats"))
            .value(":one", n(1));
        match from {
            Some(f) => u
                .expr("SET entity = :e ADD #to :one, #from :minus")
                .name("#from", f.as_str())
                .value(":minus", n(-1)),
            None => u.expr("SET entity = :e ADD #to :one, #total :one").name("#total", "total"),
        }
    };
    tx.update("job_counters", db::key(jobs::job_pk(&a.job_id), "STATS"), add(), None)
        .update(
            "seeker_counters",
            db::key(auth::account::partition(&a.applicant.user_id), "APPSTATS"),
            add(),
            None,
        )
}

/// A status history entry as stored, in the application's partition.
pub(crate) type HistoryItem = Keyed<HistoryEntry>;

/// The history entry of a move (part `history`).
pub(crate) fn history<'a>(tx: Tx<'a>, app_id: &str, entry: &HistoryEntry) -> Tx<'a> {
    let sk = format!("HIST#{}#{}", entry.at, ulid::Ulid::new());
    tx.put("history", &Keyed::new(app_pk(app_id), sk, "app_history", entry))
}

/// Moves `before` to `to` in one transaction: the application (if its version is unchanged),
/// the history entry, the counters and the event, added to `tx` (which starts with the
/// caller's account check and may hold more parts). 409 when someone else moved it first.
pub(crate) async fn move_to(
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
    let tx = tx.put_if(
        "application",
        &item(&after),
        Cond::new("version = :v").value(":v", n(before.version)),
    );
    let tx = history(tx, &after.id, &entry);
    let tx = counters(tx, &after, Some(before.status), to).emit(Actor::user(&actor.user_id), event);
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

pub(crate) fn page_of(items: Vec<Item>, next_cursor: Option<String>) -> ApiResult<Page<Application>> {
    let items = items
        .into_iter()
        .map(|i| {
            db::from_item::<AppItem>(i).map(|a| {
                let mut a = a.value;
                if let Some(r) = &mut a.resume {
                    r.key.clear();
                }
                a
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Page { items, next_cursor })
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
pub(crate) async fn of_seeker(app: &App, seeker_id: &str) -> ApiResult<Vec<Application>> {
    db::query_all(app, Some("GSI2"), by_seeker(seeker_id), None)
        .await?
        .into_iter()
        .map(|i| db::from_item::<AppItem>(i).map(|a| a.value))
        .collect()
}

pub(crate) fn counts_of(item: Option<Item>) -> StatusCounts {
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

/// A company's jobs by status (one Query of its job index) and its applicants by status
/// (the jobs' counters, read 100 at a time).
pub(crate) async fn employer_stats(app: &App, company_id: &str) -> ApiResult<(JobCounts, StatusCounts)> {
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
pub(crate) struct ProfileGrant<'a> {
    pub(crate) company_id: &'a str,
    pub(crate) application_id: &'a str,
    pub(crate) granted_at: &'a str,
}

pub(crate) fn grant_sk(company_id: &str) -> String {
    format!("GRANT#COMPANY#{company_id}")
}

pub(crate) fn grant_key(seeker_id: &str, company_id: &str) -> Item {
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

/// One application in its applicant's data export, as the applicant sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SeekerExport {
    pub application: Application,
    /// Without the company's notes.
    pub history: Vec<HistoryEntry>,
    /// Without the interviewers' feedback.
    pub interviews: Vec<interviews::InterviewView>,
}

/// Everything of a seeker's applications for their data export: each with its history
/// (without the company's notes) and interviews (without feedback).
pub async fn export_seeker(app: &App, seeker_id: &str) -> ApiResult<Vec<SeekerExport>> {
    let mut out = Vec::new();
    for mut a in of_seeker(app, seeker_id).await? {
        if let Some(r) = &mut a.resume {
            r.key.clear();
        }
        let history: Vec<HistoryEntry> = children::<HistoryItem>(app, &a.id, "HIST#")
            .await?
            .into_iter()
            .map(|mut h| {
                h.value.hide_company_side();
                h.value
            })
            .collect();
        let interviews: Vec<interviews::InterviewView> = interviews::of_application(app, &a.id)
            .await?
            .into_iter()
            .map(|i| i.for_viewer(Viewer::Applicant))
            .collect();
        out.push(SeekerExport {
            application: a,
            history,
            interviews,
        });
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub(crate) struct ProfilePart {
    #[serde(default)]
    headline: Option<String>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    skills: Vec<String>,
}

/// The applicant as the company will see them (account name, profile headline, location,
/// skills) and their current checked resume, in one consistent read.
pub(crate) async fn applicant(app: &App, user_id: &str) -> ApiResult<(ApplicantSummary, Option<files::StoredFile>)> {
    let mut found = db::get_many(
        app,
        vec![
            auth::account::key(user_id),
            db::key(auth::account::partition(user_id), "PROFILE"),
            files::file_key(user_id, files::rules::Kind::Resume),
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
    let resume = files::state_of(found.next().flatten())?.current;
    let summary = ApplicantSummary {
        user_id: user_id.to_string(),
        full_name: account.full_name,
        headline: profile.headline,
        location: profile.location,
        skills: profile.skills,
    };
    Ok((summary, resume))
}

/// Submits an application in one transaction: the caller's live account, the job still
/// open, the one-per-seeker guard (409 `already_applied` with the existing id), the
/// application, its first history entry, the counters, the profile grant and
/// `application.submitted`. The resume is copied first and removed again if it fails.
/// The resume as it is now, copied for application `id` (the profile's may change later).
async fn copy_resume(app: &App, id: &str, resume_file: Option<&files::StoredFile>) -> ApiResult<Option<ResumeRef>> {
    let Some(f) = resume_file else {
        return Ok(None);
    };
    let ext = f.key.rsplit('.').next().unwrap_or("pdf");
    let key = format!("applications/{id}/resume.{ext}");
    files::copy(app, &f.key, &key, &f.content_type).await?;
    Ok(Some(ResumeRef {
        content_type: f.content_type.clone(),
        size_bytes: f.size_bytes,
        key,
    }))
}

/// One application per seeker and job: the guard item names it.
fn guard_of(a: &Application, seeker_id: &str) -> Item {
    let mut guard_item = guard_key(&a.job_id, seeker_id);
    guard_item.insert("entity".into(), s("applicant_guard"));
    guard_item.insert("application_id".into(), s(&a.id));
    guard_item
}

/// The company may read the applicant's profile from now on.
fn grant_of<'a>(a: &'a Application, seeker_id: &str) -> Keyed<ProfileGrant<'a>> {
    let grant = ProfileGrant {
        company_id: &a.company_id,
        application_id: &a.id,
        granted_at: &a.submitted_at,
    };
    Keyed::new(auth::account::partition(seeker_id), grant_sk(&a.company_id), "profile_grant", grant)
}

pub(crate) async fn submit(
    app: &App,
    me: &Principal,
    job: &jobs::Job,
    cover_letter: String,
    applicant: ApplicantSummary,
    resume_file: Option<&files::StoredFile>,
) -> ApiResult<Application> {
    let now = common::time::now_rfc3339();
    let id = ulid::Ulid::new().to_string();
    let resume = copy_resume(app, &id, resume_file).await?;
    let a = Application {
        id: id.clone(),
        job_id: job.id.clone(),
        company_id: job.company_id.clone(),
        job_title: job.title.clone(),
        cover_letter,
        resume,
        applicant,
        status: Status::Submitted,
        version: 1,
        submitted_at: now.clone(),
        updated_at: now.clone(),
    };
    let open = Cond::new("#st = :published AND (attribute_not_exists(deadline_ts) OR deadline_ts > :now)")
        .name("#st", "status")
        .value(":published", s("published"))
        .value(":now", n(common::time::now_secs()));
    let entry = HistoryEntry {
        at: now,
        from: None,
        to: Status::Submitted,
        actor_id: me.user_id.clone(),
        by: "applicant".into(),
        note: None,
    };
    // Applications per seeker per UTC day (a quota that renews).
    let daily = common::quota::Daily::new(
        "applications_per_day",
        app.settings.quotas.applications_per_day,
        auth::account::partition(&me.user_id),
        "APPLIED",
    );
    let tx = daily
        .count(auth::account::writes_by(app, me), "daily")
        .check("job_open", db::key(jobs::job_pk(&job.id), jobs::JOB_SK), open)
        .put_item("guard", guard_of(&a, &me.user_id), Some(Cond::absent()))
        .returning_item()
        .put_new("application", &item(&a));
    let tx = history(tx, &a.id, &entry);
    let tx = counters(tx, &a, None, Status::Submitted)
        .put("grant", &grant_of(&a, &me.user_id))
        .emit(Actor::user(&me.user_id), DomainEvent::ApplicationSubmitted(a.event_ref()));
    if let Err(e) = tx.commit().await {
        if let Some(r) = &a.resume {
            let _ = files::delete(app, &r.key).await;
        }
        return Err(match e {
            TxError::Condition { part: "job_open", .. } => ApiError::conflict("job_not_open", "this job does not take applications"),
            TxError::Condition { part: "daily", .. } => daily.exceeded("applications"),
            TxError::Condition { part: "guard", item } => ApiError::conflict("already_applied", "you have applied to this job already")
                .with_details(serde_json::json!({
                    "application_id": item.as_ref().and_then(|i| db::get_s(i, "application_id"))
                })),
            other => other.into(),
        });
    }
    Ok(a)
}
