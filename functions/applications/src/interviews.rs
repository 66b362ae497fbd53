//! Interviews: the company schedules them for shortlisted (or interviewing) applications,
//! which moves the application to interviewing; reschedules, cancels or completes them with
//! feedback and a rating. The applicant sees time, kind and place, never feedback.

use common::api_doc::ErrorBody;
use common::db::{self, n, s, Keyed};
use common::error::Problems;
use common::events::{Actor, DomainEvent, InterviewChanged};
use common::http::{authenticate, created, ok, parse_json, require_role, Request, Response};
use common::token::Role;
use common::tx::{Cond, Tx, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Application, Viewer};
use crate::rules::{self, InterviewKind, InterviewStatus, Mover, Rating, Status};
use crate::store::{app_pk, children, load_for, move_to};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interview {
    pub id: String,
    pub application_id: String,
    pub job_id: String,
    pub scheduled_at: String,
    pub duration_minutes: u32,
    pub kind: InterviewKind,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub meeting_url: Option<String>,
    pub status: InterviewStatus,
    /// Company only.
    #[serde(default)]
    pub feedback: Option<String>,
    /// Company only.
    #[serde(default)]
    pub rating: Option<Rating>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// An interview as its reader may see it (no feedback or rating for the applicant).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InterviewView {
    #[serde(flatten)]
    pub interview: Interview,
}

impl Interview {
    pub fn for_viewer(mut self, viewer: Viewer) -> InterviewView {
        if viewer == Viewer::Applicant {
            self.feedback = None;
            self.rating = None;
        }
        InterviewView { interview: self }
    }
}

/// An interview as stored: in its application's partition, and under its own id in GSI3.
type InterviewItem = Keyed<Interview>;

/// Scheduled interviews by time (GSI4), for the reminder schedule.
const SCHEDULED: &str = "INTERVIEWS#SCHEDULED";

fn item(i: &Interview) -> InterviewItem {
    Keyed::new(app_pk(&i.application_id), format!("INTERVIEW#{}", i.id), "interview", i.clone())
        .in_index(3, format!("INTERVIEW#{}", i.id), "INTERVIEW")
        .in_index_if(
            i.status == InterviewStatus::Scheduled,
            4,
            SCHEDULED,
            format!("{}#{}", i.scheduled_at, i.id),
        )
}

/// An interview coming up, with whom it concerns.
pub struct Upcoming {
    pub interview: Interview,
    pub application: crate::Application,
}

/// Scheduled interviews starting in `(from_secs, to_secs]`, with their applications.
pub async fn scheduled_between(app: &App, from_secs: i64, to_secs: i64) -> ApiResult<Vec<Upcoming>> {
    // Keys are `<scheduled_at>#<id>`; `~` sorts after every id character.
    let (low, high) = (
        format!("{}#~", common::time::rfc3339(from_secs)),
        format!("{}#~", common::time::rfc3339(to_secs)),
    );
    let mut out = Vec::new();
    for item in common::db::query_between(app, Some("GSI4"), SCHEDULED, &low, &high).await? {
        let interview = common::db::from_item::<InterviewItem>(item)?.value;
        if let Some(application) = crate::get(app, &interview.application_id).await? {
            out.push(Upcoming { interview, application });
        }
    }
    Ok(out)
}

pub async fn of_application(app: &App, app_id: &str) -> ApiResult<Vec<Interview>> {
    Ok(children::<InterviewItem>(app, app_id, "INTERVIEW#")
        .await?
        .into_iter()
        .map(|i| i.value)
        .collect())
}

/// The interview (part `interview`): new, or replacing the version read.
fn put<'a>(tx: Tx<'a>, i: &Interview, prev_version: Option<u64>) -> Tx<'a> {
    match prev_version {
        None => tx.put_new("interview", &item(i)),
        Some(v) => tx.put_if("interview", &item(i), Cond::new("version = :v").value(":v", n(v))),
    }
}

/// The `interview.*` event `variant` of `i` (time and place, never feedback or rating).
fn event(variant: fn(InterviewChanged) -> DomainEvent, a: &Application, i: &Interview) -> DomainEvent {
    variant(InterviewChanged {
        application: a.event_ref(),
        interview_id: i.id.clone(),
        scheduled_at: i.scheduled_at.clone(),
        duration_minutes: i.duration_minutes,
        kind: i.kind,
        location: i.location.clone(),
        meeting_url: i.meeting_url.clone(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInterview {
    /// RFC 3339, in the future.
    pub scheduled_at: String,
    /// 5 to 480.
    #[serde(deserialize_with = "common::values::whole")]
    pub duration_minutes: u32,
    pub kind: InterviewKind,
    /// Required for `onsite`.
    pub location: Option<String>,
    /// Required for `video`; http(s).
    pub meeting_url: Option<String>,
}

/// POST /applications/{id}/interviews
#[utoipa::path(post, path = "/applications/{id}/interviews", tag = "applications", request_body = ScheduleInterview, security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "scheduled; a shortlisted application moves to interviewing", body = InterviewView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`: only shortlisted or interviewing applications; `concurrent_change`; `quota_exceeded` (interviews per application)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn schedule(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let scope = me.user_id.clone();
    common::idempotency::once(app, &req, &scope, schedule_now(app, me, &req)).await
}

async fn schedule_now(app: &'static App, me: common::token::Principal, req: &Request) -> ApiResult<Response> {
    let body: ScheduleInterview = parse_json(req)?;
    let (at, duration, (location, meeting_url)) = checked_slot(&body)?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(req, "id", "application")?).await?;
    if viewer != Viewer::Company {
        return Err(crate::store::not_found());
    }
    if !matches!(a.status, Status::Shortlisted | Status::Interviewing) {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!(
                "interviews are for shortlisted or interviewing applications; this one is {}",
                a.status.as_str()
            ),
        )
        .with_details(serde_json::json!({"allowed": a.status.company_moves()})));
    }
    let now = common::time::now_rfc3339();
    let interview = Interview {
        id: ulid::Ulid::new().to_string(),
        application_id: a.id.clone(),
        job_id: a.job_id.clone(),
        scheduled_at: at,
        duration_minutes: duration,
        kind: body.kind,
        location,
        meeting_url,
        status: InterviewStatus::Scheduled,
        feedback: None,
        rating: None,
        cancel_reason: None,
        created_by: me.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    store_scheduled(app, &me, &a, &interview).await?;
    created(&interview.for_viewer(Viewer::Company))
}

/// The time, length and place of a new interview, each by its rule (all problems: 422).
fn checked_slot(body: &ScheduleInterview) -> ApiResult<(String, u32, rules::Place)> {
    let mut p = Problems::default();
    let at = p.check("scheduled_at", rules::interview_time(&body.scheduled_at, common::time::now_secs()));
    let duration = p.check("duration_minutes", rules::duration(body.duration_minutes));
    let place = match rules::place(body.kind, body.location.as_deref(), body.meeting_url.as_deref()) {
        Ok(pl) => Some(pl),
        Err((field, why)) => {
            p.add(field, why);
            None
        }
    };
    let (Some(at), Some(duration), Some(place)) = (at, duration, place) else {
        return Err(p.into_error());
    };
    p.into_result()?;
    Ok((at, duration, place))
}

/// Stores the interview with its event and the per-application quota, moving a shortlisted
/// application to interviewing (or checking an interviewing one is unchanged), in one
/// transaction.
async fn store_scheduled(app: &App, me: &common::token::Principal, a: &Application, interview: &Interview) -> ApiResult<()> {
    let scheduled = event(DomainEvent::InterviewScheduled, a, interview);
    let limit = app.settings.quotas.interviews_per_application;
    let counter = db::key(app_pk(&a.id), "INTERVIEWS");
    let writes = put(auth::account::writes_by(app, me), interview, None)
        .update("interviews", counter, Cond::add("count", 1), Some(Cond::below("count", limit)))
        .emit(Actor::user(&me.user_id), scheduled);
    let done = if a.status == Status::Shortlisted {
        move_to(
            a,
            Status::Interviewing,
            me,
            Mover::Company,
            Some("interview scheduled".into()),
            writes,
        )
        .await
        .map(|_| ())
    } else {
        // Still interviewing, unchanged meanwhile.
        let unchanged = Cond::new("version = :v").value(":v", n(a.version));
        commit(writes.check("application", db::key(app_pk(&a.id), "APP"), unchanged)).await
    };
    let Err(e) = done else {
        return Ok(());
    };
    // A refused transaction: the quota, or a concurrent change.
    let count = db::get::<serde_json::Value>(app, app_pk(&a.id), "INTERVIEWS")
        .await?
        .and_then(|c| c["count"].as_i64())
        .unwrap_or(0);
    if e.code == "concurrent_change" && count >= limit {
        return Err(common::quota::exceeded(
            "interviews_per_application",
            limit,
            format!("an application has at most {limit} interviews"),
        ));
    }
    Err(e)
}

async fn commit(tx: Tx<'_>) -> ApiResult<()> {
    match tx.commit().await {
        Err(TxError::Condition { .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "the application or interview changed meanwhile; reload and retry",
        )),
        other => Ok(other?),
    }
}

#[derive(Serialize, ToSchema)]
pub struct InterviewList {
    pub items: Vec<InterviewView>,
}

/// GET /applications/{id}/interviews: by time.
#[utoipa::path(get, path = "/applications/{id}/interviews", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the applicant sees no feedback or rating", body = InterviewList),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let (a, viewer) = load_for(app, &me, &common::http::id_param(&req, "id", "application")?).await?;
    let mut items: Vec<InterviewView> = of_application(app, &a.id)
        .await?
        .into_iter()
        .map(|i| i.for_viewer(viewer))
        .collect();
    items.sort_by(|x, y| x.interview.scheduled_at.cmp(&y.interview.scheduled_at));
    ok(&InterviewList { items })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInterview {
    /// Reschedule (a scheduled interview).
    pub scheduled_at: Option<String>,
    #[serde(default, deserialize_with = "common::values::whole_opt")]
    pub duration_minutes: Option<u32>,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    /// `cancelled` or `completed` (both final).
    pub status: Option<InterviewStatus>,
    /// With `completed`.
    pub feedback: Option<String>,
    /// Required with `completed`.
    pub rating: Option<Rating>,
    /// With `cancelled`; shown to the applicant.
    pub reason: Option<String>,
}

/// PATCH /interviews/{id}: reschedule, cancel, or complete with feedback and a rating.
#[utoipa::path(patch, path = "/interviews/{id}", tag = "applications", request_body = UpdateInterview, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = InterviewView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`interview_closed` (cancelled or completed), `concurrent_change`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let body: UpdateInterview = parse_json(&req)?;
    let missing = || ApiError::not_found("no such interview");
    let id = common::http::id_param(&req, "id", "interview")?;
    let before = by_id(app, &id).await?.ok_or_else(missing)?;
    let (a, viewer) = load_for(app, &me, &before.application_id).await.map_err(|_| missing())?;
    if viewer != Viewer::Company {
        return Err(missing());
    }
    if before.status != InterviewStatus::Scheduled {
        return Err(ApiError::conflict("interview_closed", "this interview is cancelled or completed"));
    }
    let (mut after, kind) = changed(&before, &body)?;
    if after == before {
        return ok(&before.for_viewer(Viewer::Company));
    }
    after.version += 1;
    after.updated_at = common::time::now_rfc3339();
    let tx = auth::account::writes_by(app, &me);
    commit(put(tx, &after, Some(before.version)).emit(Actor::user(&me.user_id), event(kind, &a, &after))).await?;
    ok(&after.for_viewer(Viewer::Company))
}

/// An interview by its id (GSI3).
async fn by_id(app: &App, id: &str) -> ApiResult<Option<Interview>> {
    let found = app
        .dynamo()
        .query()
        .table_name(app.table())
        .index_name("GSI3")
        .key_condition_expression("GSI3PK = :k")
        .expression_attribute_values(":k", s(format!("INTERVIEW#{id}")))
        .send()
        .await?;
    Ok(found
        .items
        .unwrap_or_default()
        .into_iter()
        .next()
        .map(db::from_item::<InterviewItem>)
        .transpose()?
        .map(|i| i.value))
}

/// The interview as the PATCH body changes it, each field by its rule (all problems: 422),
/// and the event the change makes.
fn changed(before: &Interview, body: &UpdateInterview) -> ApiResult<(Interview, fn(InterviewChanged) -> DomainEvent)> {
    let now_secs = common::time::now_secs();
    let mut p = Problems::default();
    let mut after = before.clone();
    if let Some(t) = body
        .scheduled_at
        .as_deref()
        .and_then(|t| p.check("scheduled_at", rules::interview_time(t, now_secs)))
    {
        after.scheduled_at = t;
    }
    if let Some(d) = body.duration_minutes.and_then(|d| p.check("duration_minutes", rules::duration(d))) {
        after.duration_minutes = d;
    }
    if body.location.is_some() || body.meeting_url.is_some() {
        let loc = body.location.as_deref().or(before.location.as_deref());
        let url = body.meeting_url.as_deref().or(before.meeting_url.as_deref());
        match rules::place(before.kind, loc, url) {
            Ok((l, u)) => {
                after.location = l;
                after.meeting_url = u;
            }
            Err((field, why)) => p.add(field, why),
        }
    }
    let text = |p: &mut Problems, field: &str, v: Option<&str>, max: usize| {
        v.and_then(|v| p.check(field, common::values::optional_text(v, max))).flatten()
    };
    let feedback = text(&mut p, "feedback", body.feedback.as_deref(), rules::FEEDBACK_MAX);
    let reason = text(&mut p, "reason", body.reason.as_deref(), rules::NOTE_MAX);
    let kind = match body.status {
        Some(InterviewStatus::Completed) => {
            if body.rating.is_none() {
                p.add("rating", "is required to complete an interview");
            }
            after.status = InterviewStatus::Completed;
            after.feedback = feedback;
            after.rating = body.rating;
            DomainEvent::InterviewCompleted
        }
        Some(InterviewStatus::Cancelled) => {
            after.status = InterviewStatus::Cancelled;
            after.cancel_reason = reason;
            DomainEvent::InterviewCancelled
        }
        Some(InterviewStatus::Scheduled) | None => {
            if body.feedback.is_some() || body.rating.is_some() {
                p.add("status", "feedback and a rating come with status completed");
            }
            DomainEvent::InterviewRescheduled
        }
    };
    p.into_result()?;
    Ok((after, kind))
}
