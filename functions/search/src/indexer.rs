//! The indexer: an SQS consumer of domain events that keeps the jobs, companies and
//! candidates indexes in step with the table.
//!
//! An event says *what* changed; the indexer reads the current state from the table
//! (strongly consistent) and writes that, with the entity's version as the external
//! version. So a late or repeated event writes the same or newer state, never older, and
//! the engine refuses a write older than what it holds. Things that leave an index are
//! deleted at their version (the engine keeps the deletion's version); things that are gone
//! from the table for good (an erased account, a missing job) are deleted at
//! [`GONE`], above any version they could have had, so nothing brings them back.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use common::consumer::Delivery;
use common::db;
use common::events::DomainEvent;
use common::vocab::{Category, Company, Job};
use common::{ApiResult, App};

use crate::docs::{CandidateDoc, CompanyDoc, JobDoc};
use crate::engine::{self, Written};
use crate::mappings::IndexKind;

/// The consumer's name; scopes its dedupe records.
pub const CONSUMER: &str = "search-indexer";

/// The version a permanently removed document is deleted at.
pub const GONE: u64 = 1 << 60;

fn failed(e: common::ApiError) -> String {
    format!("{}: {:?}", e.message, e.source)
}

pub async fn handle(app: &'static App, delivery: Delivery) -> Result<(), String> {
    if !receives(&delivery.event) {
        return Ok(());
    }
    apply(app, &delivery.event).await.map_err(failed)
}

/// The event types the search indexer brings the indexes in step with.
/// Every variant is named (no wildcard), so a new event type is a decision here; the
/// subscription's SNS filter policy in template.yaml is checked against this (tests/it/
/// consumers.rs), and the consumer acknowledges anything else untouched.
pub fn receives(event: &common::events::DomainEvent) -> bool {
    use common::events::DomainEvent::*;
    match event {
        JobCreated(_)
        | JobUpdated(_)
        | JobClosed(_)
        | JobExpired(_)
        | JobSuspended(_)
        | JobRestored(_)
        | CompanyCreated(_)
        | CompanyUpdated(_)
        | CategoryUpdated(_)
        | CategoryDeactivated(_)
        | UserUpdated(_)
        | UserSuspended(_)
        | UserReinstated(_)
        | UserRoleChanged(_)
        | UserDeleted(_)
        | SavedSearchCreated(_)
        | SavedSearchUpdated(_)
        | SavedSearchDeleted(_) => true,
        UserRegistered(_)
        | PasswordChanged(_)
        | PasswordReset(_)
        | PasswordResetRequested(_)
        | VerificationRequested(_)
        | CompanyMemberInvited(_)
        | CompanyMemberAdded(_)
        | CompanyMemberRemoved(_)
        | JobReported(_)
        | ApplicationSubmitted(_)
        | ApplicationStatusChanged(_)
        | ApplicationWithdrawn(_)
        | InterviewScheduled(_)
        | InterviewRescheduled(_)
        | InterviewCancelled(_)
        | InterviewCompleted(_)
        | CategoryCreated(_)
        | SavedSearchMatched(_) => false,
    }
}

/// The consumer as the runtime and the local gateway call it.
pub fn handler(app: &'static App, delivery: Delivery) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(handle(app, delivery))
}

/// Brings the indexes in step with what `event` changed.
pub async fn apply(app: &App, event: &DomainEvent) -> ApiResult<()> {
    use DomainEvent::*;
    match event {
        JobCreated(c) | JobUpdated(c) | JobClosed(c) | JobExpired(c) | JobSuspended(c) | JobRestored(c) => {
            let state = JobState::read(app, &c.job.id, &c.job.company_id, &c.job.category).await?;
            state.sync(app).await?;
            // Its company's open-job count changes only when the job opens or closes.
            if c.previous_status != Some(c.job.status) {
                sync_company_as(app, &c.job.company_id, state.company.as_ref()).await?;
            }
            Ok(())
        }
        CompanyCreated(c) | CompanyUpdated(c) => {
            sync_company(app, &c.company.id).await?;
            // Job documents carry the company's name.
            sync_jobs(app, jobs::open_jobs(app, jobs::OpenJobs::OfCompany(&c.company.id)).await?).await
        }
        // Job documents carry the category's name.
        CategoryUpdated(c) | CategoryDeactivated(c) => {
            sync_jobs(app, jobs::open_jobs(app, jobs::OpenJobs::InCategory(&c.category.slug)).await?).await
        }
        UserUpdated(u) => sync_candidate(app, &u.user_id).await.map(|_| ()),
        UserSuspended(a) | UserReinstated(a) | UserRoleChanged(a) => sync_candidate(app, &a.user_id).await.map(|_| ()),
        UserDeleted(u) => {
            engine::delete(app, IndexKind::Candidates, &u.user_id, GONE).await?;
            crate::alerts::forget_user(app, &u.user_id).await
        }
        SavedSearchCreated(c) | SavedSearchUpdated(c) => crate::alerts::sync_saved(app, &c.saved_search.user_id, &c.saved_search.id).await,
        SavedSearchDeleted(r) => crate::alerts::sync_saved(app, &r.user_id, &r.saved_search_id).await,
        _ => Ok(()),
    }
}

/// Whether a job belongs in the open-jobs index now.
pub fn searchable(job: &Job, now_secs: i64) -> bool {
    job.accepting_applications(now_secs)
}

/// A job's document with its company's and category's names (the slug while the category
/// is unknown).
fn doc_of(job: &Job, company: Option<&Company>, category: Option<&Category>) -> JobDoc {
    JobDoc::new(
        job,
        company.map(|c| c.name.as_str()).unwrap_or_default(),
        category.map(|c| c.name.as_str()).unwrap_or(&job.category),
    )
}

/// A job with its company and category as the table holds them now, read together.
pub struct JobState {
    pub id: String,
    pub job: Option<Job>,
    pub company: Option<Company>,
    pub category: Option<Category>,
}

impl JobState {
    /// One consistent read of the job and the company and category it names (`company_id`
    /// and `category` are the caller's guess, from the event; a job moved to another
    /// category since costs one more read).
    pub async fn read(app: &App, id: &str, company_id: &str, category: &str) -> ApiResult<JobState> {
        let keys = vec![jobs::key(id), companies::key(company_id), categories::key(category)];
        let mut items = db::get_many(app, keys).await?.into_iter();
        let job = items.next().flatten().map(jobs::from_item).transpose()?;
        let company = items.next().flatten().map(companies::from_item).transpose()?;
        let mut category = items.next().flatten().map(categories::from_item).transpose()?;
        if let Some(j) = job
            .as_ref()
            .filter(|j| j.category != category.as_ref().map(|c| c.slug.as_str()).unwrap_or_default())
        {
            category = categories::get(app, &j.category).await?;
        }
        Ok(JobState {
            id: id.to_string(),
            job,
            company,
            category,
        })
    }

    /// The job's search document.
    pub fn doc(&self, job: &Job) -> JobDoc {
        doc_of(job, self.company.as_ref(), self.category.as_ref())
    }

    /// Writes the job if it is open now, else removes it at its version (gone: above any).
    pub async fn sync(&self, app: &App) -> ApiResult<Written> {
        match &self.job {
            None => engine::delete(app, IndexKind::Jobs, &self.id, GONE).await,
            Some(job) if searchable(job, common::time::now_secs()) => {
                engine::put(app, IndexKind::Jobs, &self.id, job.version, &self.doc(job)).await
            }
            Some(job) => engine::delete(app, IndexKind::Jobs, &self.id, job.version).await,
        }
    }
}

/// The document of a job with its company's and category's names.
pub async fn job_doc(app: &App, job: &Job) -> ApiResult<JobDoc> {
    let state = JobState::read(app, &job.id, &job.company_id, &job.category).await?;
    Ok(state.doc(state.job.as_ref().unwrap_or(job)))
}

/// Reads and writes one job by id.
pub async fn sync_job(app: &App, id: &str) -> ApiResult<Written> {
    let Some(job) = jobs::get(app, id).await? else {
        return engine::delete(app, IndexKind::Jobs, id, GONE).await;
    };
    JobState::read(app, id, &job.company_id, &job.category).await?.sync(app).await
}

/// Writes many jobs as read (a rename's open jobs, a rebuild): their companies and
/// categories read once each, the documents in `_bulk` requests of 500.
pub async fn sync_jobs(app: &App, jobs: Vec<Job>) -> ApiResult<()> {
    let mut companies: HashMap<String, Option<Company>> = HashMap::new();
    let mut categories: HashMap<String, Option<Category>> = HashMap::new();
    let now = common::time::now_secs();
    let mut ops = Vec::with_capacity(jobs.len());
    for job in jobs {
        if !companies.contains_key(&job.company_id) {
            companies.insert(job.company_id.clone(), companies::get(app, &job.company_id).await?);
        }
        if !categories.contains_key(&job.category) {
            categories.insert(job.category.clone(), categories::get(app, &job.category).await?);
        }
        ops.push(if searchable(&job, now) {
            let doc = doc_of(&job, companies[&job.company_id].as_ref(), categories[&job.category].as_ref());
            let doc = serde_json::to_value(doc).map_err(common::ApiError::internal)?;
            engine::BulkOp::Put {
                id: job.id.clone(),
                version: job.version,
                doc,
            }
        } else {
            engine::BulkOp::Delete {
                id: job.id.clone(),
                version: job.version,
            }
        });
    }
    engine::bulk(app, IndexKind::Jobs, ops).await
}

/// A company with the number of its open jobs (the counter the job transactions keep).
pub async fn sync_company(app: &App, id: &str) -> ApiResult<Written> {
    let company = companies::get(app, id).await?;
    sync_company_as(app, id, company.as_ref()).await
}

async fn sync_company_as(app: &App, id: &str, company: Option<&Company>) -> ApiResult<Written> {
    let Some(company) = company else {
        return engine::delete(app, IndexKind::Companies, id, GONE).await;
    };
    engine::put(
        app,
        IndexKind::Companies,
        id,
        company.version,
        &CompanyDoc::new(company, company.open_job_count),
    )
    .await
}

fn this_month() -> (i32, i32) {
    use chrono::Datelike;
    let now = chrono::Utc::now();
    (now.year(), now.month() as i32)
}

pub async fn sync_candidate(app: &App, user_id: &str) -> ApiResult<Written> {
    match profiles::searchable(app, user_id).await? {
        None => engine::delete(app, IndexKind::Candidates, user_id, GONE).await,
        Some(p) if p.listed => engine::put(app, IndexKind::Candidates, user_id, p.version, &CandidateDoc::new(&p, this_month())).await,
        Some(p) => engine::delete(app, IndexKind::Candidates, user_id, p.version).await,
    }
}
