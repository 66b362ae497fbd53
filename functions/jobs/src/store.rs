//! Jobs in the table: the item with its open-list index keys and filter attributes, reads,
//! and the one transaction every job change goes through.

use crate::handlers::*;
use crate::model::*;
use crate::rules;
use crate::Job;
use common::audit::AuditEntry;
use common::db::{self, n, Keyed};
use common::events::{Actor, DomainEvent, JobChanged};
use common::token::Principal;
use common::tx::{Cond, Tx, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A job with the attributes list filters read server-side.
#[derive(Serialize, Deserialize)]
pub(crate) struct JobRecord {
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

/// A job as stored: open ones in the open lists (GSI1 all, GSI2 per category, GSI4
/// featured, GSI5 by deadline), every one in its company's list (GSI3).
pub(crate) type JobItem = Keyed<JobRecord>;

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
    let deadline_sort = job
        .application_deadline
        .as_deref()
        .map(|d| format!("{d}#{}", job.id))
        .unwrap_or_default();
    let yearly = job.salary.as_ref().map(rules::yearly_range);
    let record = JobRecord {
        country_key: job.location.country.clone(),
        city_key: job.location.city.to_lowercase(),
        deadline_ts: job.deadline_secs(),
        salary_currency: job.salary.as_ref().map(|s| s.currency.clone()),
        salary_year_min: yearly.map(|y| y.0),
        salary_year_max: yearly.map(|y| y.1),
        job: job.clone(),
    };
    Keyed::new(job_pk(&job.id), JOB_SK, "job", record)
        .in_index_if(open, 1, OPEN, sort.clone())
        .in_index_if(open, 2, open_in_category(&job.category), sort.clone())
        .in_index(3, of_company(&job.company_id), format!("{}#{}", job.created_at, job.id))
        .in_index_if(open && job.featured, 4, FEATURED, sort)
        .in_index_if(open && job.application_deadline.is_some(), 5, DEADLINES, deadline_sort)
}

pub async fn get(app: &App, id: &str) -> ApiResult<Option<Job>> {
    Ok(db::get::<JobItem>(app, job_pk(id), JOB_SK).await?.map(|i| i.value.job))
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
    let company_delta = i64::from(after.counted()) - i64::from(before.is_some_and(|b| b.counted()));
    if company_delta != 0 {
        tx = companies::count_open(tx, &after.company_id, company_delta, app.settings.quotas.open_jobs_per_company);
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
        // The company is there and the count at the quota, or the company is gone.
        Err(TxError::Condition {
            part: "company",
            item: Some(_),
        }) => {
            let limit = app.settings.quotas.open_jobs_per_company;
            Err(common::quota::exceeded(
                "open_jobs_per_company",
                limit,
                format!("a company has at most {limit} open jobs; close one first"),
            ))
        }
        Err(TxError::Condition { part: "company", .. }) => Err(ApiError::not_found("no such company")),
        other => Ok(other?),
    }
}

/// The caller may change the job's company's jobs (a member), else 404: a job someone
/// cannot change is one they are not told about.
pub(crate) async fn require_member(app: &App, actor: &Principal, company_id: &str) -> ApiResult<()> {
    match companies::membership(app, &actor.user_id, company_id).await? {
        Some(_) => Ok(()),
        None => Err(not_found()),
    }
}

/// Which open jobs to read (search keeps its copies in step with them).
#[derive(Clone, Copy, Debug)]
pub enum OpenJobs<'a> {
    All,
    InCategory(&'a str),
    OfCompany(&'a str),
}

/// The jobs open now (published, deadline not passed) of one list, every page.
pub async fn open_jobs(app: &App, which: OpenJobs<'_>) -> ApiResult<Vec<Job>> {
    let (index, key) = match which {
        OpenJobs::All => ("GSI1", OPEN.to_string()),
        OpenJobs::InCategory(slug) => ("GSI2", open_in_category(slug)),
        OpenJobs::OfCompany(id) => ("GSI3", of_company(id)),
    };
    let now = common::time::now_secs();
    let mut out = Vec::new();
    for item in db::query_all(app, Some(index), key, None).await? {
        let job = db::from_item::<JobItem>(item)?.value.job;
        if job.accepting_applications(now) {
            out.push(job);
        }
    }
    Ok(out)
}

/// The key of a job's item, for reads batched with other domains' items.
pub fn key(id: &str) -> db::Item {
    db::key(job_pk(id), JOB_SK)
}

/// The job of an item read by [`key`].
pub fn from_item(item: db::Item) -> ApiResult<Job> {
    Ok(db::from_item::<JobItem>(item)?.value.job)
}
