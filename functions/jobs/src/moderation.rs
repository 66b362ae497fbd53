//! Reports and moderation: any user reports a job once; reported jobs wait in the admin
//! queue (oldest first) until an admin suspends the job or dismisses the reports; lifting a
//! suspension returns the job to the status it had. Every admin action is audited in the
//! same transaction.

use common::api_doc::ErrorBody;
use common::audit::AuditEntry;
use common::cursor::{query_page, ListQuery, Page};
use common::db::{self, n, s, Keyed};
use common::error::Problems;
use common::events::{Actor, DomainEvent, JobChanged, JobReported};
use common::http::{created, ok, parse_json, require_role, Request, Response};
use common::token::{Principal, Role};
use common::tx::{Cond, Tx, TxError};
use common::values::optional_text;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::JobStatus;
use crate::JobRules;
use crate::{commit, id_param, job_pk, By, Job, JobItem, JobView, Moderation, JOB_SK};
pub use common::vocab::ReportReason;

pub const DETAILS_MAX: usize = 1000;
pub const MODERATION_REASON_MAX: usize = 500;
const QUEUE: &str = "REPORTQUEUE";
const QUEUE_SK: &str = "REPORTS";

/// The queue item's counter of reports with this reason.
fn counter(reason: ReportReason) -> &'static str {
    match reason {
        ReportReason::Spam => "reason_spam",
        ReportReason::Fake => "reason_fake",
        ReportReason::Offensive => "reason_offensive",
        ReportReason::Other => "reason_other",
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    pub reason: ReportReason,
    /// Required when the reason is `other`; at most 1000 characters.
    pub details: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub job_id: String,
    pub reason: ReportReason,
    #[serde(default)]
    pub details: Option<String>,
    pub created_at: String,
}

/// The index partition of one user's reports.
pub fn reports_by(user_id: &str) -> String {
    format!("REPORTSBY#{user_id}")
}

/// The reports `user_id` filed (their data export; one Query of GSI2).
pub async fn reports_of(app: &App, user_id: &str) -> ApiResult<Vec<Report>> {
    db::query_all(app, Some("GSI2"), reports_by(user_id), None)
        .await?
        .into_iter()
        .map(db::from_item::<Report>)
        .collect()
}

/// The queue entry of a reported job (one per job).
#[derive(Deserialize)]
struct QueueItem {
    job_id: String,
    company_id: String,
    title: String,
    #[serde(rename = "GSI1PK", default)]
    gsi1pk: Option<String>,
    #[serde(default)]
    open_reports: u64,
    #[serde(default)]
    total_reports: u64,
    #[serde(default)]
    reason_spam: u64,
    #[serde(default)]
    reason_fake: u64,
    #[serde(default)]
    reason_offensive: u64,
    #[serde(default)]
    reason_other: u64,
    #[serde(default)]
    first_open_at: Option<String>,
    last_reported_at: String,
}

/// Open reports by reason.
#[derive(Serialize, ToSchema)]
pub struct ReasonCounts {
    pub spam: u64,
    pub fake: u64,
    pub offensive: u64,
    pub other: u64,
}

/// A reported job waiting for a decision.
#[derive(Serialize, ToSchema)]
pub struct ReportedJob {
    pub job_id: String,
    pub company_id: String,
    pub title: String,
    /// Reports since the last decision.
    pub open_reports: u64,
    pub total_reports: u64,
    /// All reports of the job by reason.
    pub reasons: ReasonCounts,
    pub first_open_at: Option<String>,
    pub last_reported_at: String,
}

impl From<QueueItem> for ReportedJob {
    fn from(q: QueueItem) -> Self {
        ReportedJob {
            job_id: q.job_id,
            company_id: q.company_id,
            title: q.title,
            open_reports: q.open_reports,
            total_reports: q.total_reports,
            reasons: ReasonCounts {
                spam: q.reason_spam,
                fake: q.reason_fake,
                offensive: q.reason_offensive,
                other: q.reason_other,
            },
            first_open_at: q.first_open_at,
            last_reported_at: q.last_reported_at,
        }
    }
}

/// POST /jobs/{id}/reports: one report per user per job.
#[utoipa::path(post, path = "/jobs/{id}/reports", tag = "moderation", request_body = CreateReport, security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Report), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_reported`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Seeker, Role::Employer, Role::Admin]).await?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &actor.user_id).await? {
        return Ok(done);
    }
    let body: CreateReport = parse_json(&req)?;
    let id = id_param(&req)?;
    let mut p = Problems::default();
    let details = p
        .check("details", optional_text(body.details.as_deref().unwrap_or_default(), DETAILS_MAX))
        .flatten();
    if body.reason == ReportReason::Other && details.is_none() {
        p.add("details", "say what is wrong when the reason is other");
    }
    p.into_result()?;
    let job = crate::get(app, &id)
        .await?
        .filter(|j| j.status.is_public())
        .ok_or_else(|| ApiError::not_found("no such job"))?;
    let scope = actor.user_id.clone();
    let work = Box::pin(async move {
        let now = common::time::now_rfc3339();
        let report = Report {
            job_id: job.id.clone(),
            reason: body.reason,
            details,
            created_at: now.clone(),
        };
        let report_item = Keyed::new(job_pk(&job.id), format!("REPORT#{}", actor.user_id), "report", report.clone()).in_index(
            2,
            reports_by(&actor.user_id),
            format!("{now}#{}", job.id),
        );
        let queue = Cond::new(format!(
            "SET entity = :e, job_id = :id, company_id = :c, title = :t, last_reported_at = :now, \
             first_open_at = if_not_exists(first_open_at, :now), GSI1PK = :q, GSI1SK = if_not_exists(GSI1SK, :sort) \
             ADD open_reports :one, total_reports :one, {} :one",
            counter(body.reason)
        ))
        .value(":e", s("report_queue"))
        .value(":id", s(&job.id))
        .value(":c", s(&job.company_id))
        .value(":t", s(&job.title))
        .value(":now", s(&now))
        .value(":q", s(QUEUE))
        .value(":sort", s(format!("{now}#{}", job.id)))
        .value(":one", n(1));
        let event = DomainEvent::JobReported(JobReported {
            job_id: job.id.clone(),
            company_id: job.company_id.clone(),
            reason: body.reason,
        });
        // Reports per user per UTC day (a quota that renews).
        let daily = common::quota::Daily::new(
            "reports_per_day",
            app.settings.quotas.reports_per_day,
            auth::account::partition(&actor.user_id),
            "REPORTS",
        );
        let tx = daily
            .count(auth::account::writes_by(app, &actor), "daily")
            .put_new("report", &report_item)
            .update("queue", db::key(job_pk(&job.id), QUEUE_SK), queue, None)
            .emit(Actor::user(&actor.user_id), event);
        match tx.commit().await {
            Err(TxError::Condition { part: "report", .. }) => {
                Err(ApiError::conflict("already_reported", "you have reported this job already"))
            }
            Err(TxError::Condition { part: "daily", .. }) => Err(daily.exceeded("reports")),
            other => {
                other?;
                created(&report)
            }
        }
    });
    common::idempotency::run(app, &req, &scope, work).await
}

#[derive(Serialize, ToSchema)]
pub struct ReportQueuePage {
    pub items: Vec<ReportedJob>,
    pub next_cursor: Option<String>,
}

/// GET /admin/reports: reported jobs waiting for a decision, oldest first.
#[utoipa::path(get, path = "/admin/reports", tag = "moderation", security(("bearer" = [])),
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ReportQueuePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn queue(app: &'static App, req: Request) -> ApiResult<Response> {
    auth::account::require_admin(app, &req).await?;
    let q = ListQuery {
        index: Some("GSI1"),
        key_name: db::GSI1PK,
        key: QUEUE.into(),
        newest_first: false,
    };
    let page: Page<QueueItem> = query_page(app, &req, "GET /admin/reports", q).await?;
    ok(&Page {
        items: page.items.into_iter().map(ReportedJob::from).collect(),
        next_cursor: page.next_cursor,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModerationStatus {
    /// Take the job off the platform.
    Suspended,
    /// Lift a suspension (the job returns to its earlier status), or keep a job that is
    /// not suspended and dismiss its reports.
    Published,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerateJob {
    pub status: Option<ModerationStatus>,
    /// Why; required with `status`, kept in the audit log and shown to the company on a
    /// suspension.
    pub reason: Option<String>,
    /// Feature the job (or stop featuring it): admins only.
    pub featured: Option<bool>,
}

/// Takes the job out of the queue if it is in it (the reports are decided).
fn resolve<'a>(tx: Tx<'a>, queue: &QueueItem, resolution: &str, actor: &Principal) -> Tx<'a> {
    let set =
        Cond::new("SET open_reports = :zero, resolved_at = :now, resolution = :r, resolved_by = :by REMOVE GSI1PK, GSI1SK, first_open_at")
            .value(":zero", n(0))
            .value(":now", s(common::time::now_rfc3339()))
            .value(":r", s(resolution))
            .value(":by", s(&actor.user_id));
    let unchanged = Cond::new("last_reported_at = :seen").value(":seen", s(&queue.last_reported_at));
    tx.update("queue", db::key(job_pk(&queue.job_id), QUEUE_SK), set, Some(unchanged))
}

/// PATCH /admin/jobs/{id}: suspend a job or lift the suspension; either decides its open
/// reports.
#[utoipa::path(patch, path = "/admin/jobs/{id}", tag = "moderation", request_body = ModerateJob, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`concurrent_change`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn moderate(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = auth::account::require_admin(app, &req).await?;
    let body: ModerateJob = parse_json(&req)?;
    let id = id_param(&req)?;
    let reason = decision_reason(&body)?;
    let (job, queue) = db::get_pair::<JobItem, QueueItem>(app, db::key(job_pk(&id), JOB_SK), db::key(job_pk(&id), QUEUE_SK)).await?;
    let before: Job = job.ok_or_else(|| ApiError::not_found("no such job"))?.value.job;
    let now_secs = common::time::now_secs();
    let now = common::time::now_rfc3339();
    let (mut after, event) = decide(&before, &body, &reason, &now);
    let resolution = match body.status {
        Some(ModerationStatus::Suspended) => "suspended",
        _ => "dismissed",
    };
    // Reports are decided only by a status decision; featuring alone leaves them waiting.
    let open_queue = queue.filter(|q| q.gsi1pk.is_some()).filter(|_| body.status.is_some());
    match event {
        Some(event) => {
            after.version = before.version + 1;
            after.updated_at = now;
            commit(
                app,
                Some(&before),
                &after,
                event,
                By::Admin(&actor),
                (!reason.is_empty()).then(|| reason.clone()),
                |tx| match &open_queue {
                    Some(q) => resolve(tx, q, resolution, &actor),
                    None => tx,
                },
            )
            .await?;
        }
        // Nothing changes on the job; only reports waiting for a decision are decided.
        None => {
            if let Some(q) = &open_queue {
                decide_reports_only(app, &actor, &before.id, q, resolution, &reason).await?;
            }
        }
    }
    ok(&after.view(now_secs))
}

/// The reason of a decision: required (text) with a status, optional with `featured` alone;
/// a decision changes something.
fn decision_reason(body: &ModerateJob) -> ApiResult<String> {
    let mut p = Problems::default();
    let reason = match (&body.reason, body.status) {
        (Some(r), _) => p.check("reason", common::values::required_text(r, MODERATION_REASON_MAX)),
        (None, Some(_)) => {
            p.add("reason", "is required to suspend or restore a job");
            None
        }
        (None, None) => None,
    };
    if body.status.is_none() && body.featured.is_none() {
        p.add("status", "give a status, featured, or both");
    }
    p.into_result()?;
    Ok(reason.unwrap_or_default())
}

/// The job after the decision, and the event it makes (`None`: the job does not change).
fn decide(before: &Job, body: &ModerateJob, reason: &str, now: &str) -> (Job, Option<fn(JobChanged) -> DomainEvent>) {
    let mut after = before.clone();
    let featuring = body.featured.filter(|f| *f != before.featured);
    if let Some(f) = featuring {
        after.featured = f;
    }
    let event = match (body.status, before.status) {
        (Some(ModerationStatus::Suspended), s) if s != JobStatus::Suspended => {
            after.status = JobStatus::Suspended;
            after.suspended_from = Some(s);
            after.moderation = Some(Moderation {
                reason: reason.to_string(),
                at: now.to_string(),
            });
            Some(DomainEvent::JobSuspended as fn(JobChanged) -> DomainEvent)
        }
        (Some(ModerationStatus::Published), JobStatus::Suspended) => {
            after.status = before.suspended_from.unwrap_or(JobStatus::Published);
            after.suspended_from = None;
            after.moderation = None;
            Some(DomainEvent::JobRestored as fn(JobChanged) -> DomainEvent)
        }
        _ if featuring.is_some() => Some(DomainEvent::JobUpdated as fn(JobChanged) -> DomainEvent),
        _ => None,
    };
    (after, event)
}

/// A status decision that leaves the job as it is (already suspended, or published):
/// its waiting reports are decided, audited, in one transaction.
async fn decide_reports_only(app: &App, actor: &Principal, job_id: &str, q: &QueueItem, resolution: &str, reason: &str) -> ApiResult<()> {
    let entry = AuditEntry::new(
        actor,
        &format!("job.reports_{resolution}"),
        "job",
        job_id,
        Some(&serde_json::json!({"open_reports": q.open_reports})),
        Some(&serde_json::json!({"open_reports": 0, "reason": reason})),
    );
    let tx = resolve(auth::account::writes_by(app, actor), q, resolution, actor).audit(&entry);
    match tx.commit().await {
        Err(TxError::Condition { part: "queue", .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "a new report arrived meanwhile; reload and decide again",
        )),
        other => other.map_err(Into::into),
    }
}
