//! Job alerts for saved searches.
//!
//! Matching a new job does not run every saved search. Saved searches with alerts on are
//! copied into the saved-searches index as reverse filters; a visible job first asks that
//! index for the searches that could match it (their list filters allow the job's values,
//! their words share a word with the job, they were saved before it was published): a
//! small candidate set, paged. Each candidate's own query (built by the /search/jobs code)
//! then runs against this one job, all in one `_msearch` per 100: exact semantics, typos
//! and synonyms included.
//!
//! Each (saved search, job) pair gets one marker item, written with `attribute_not_exists`
//! in the transaction that emits the alert (instant) or queues it for the digest (daily,
//! weekly): redelivery and retries never alert twice.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | alert marker | `USER#<user>` | `ALERT#<saved search>#<job>` | GSI1 `DIGEST#<frequency>` by due time while queued |

use std::future::Future;
use std::pin::Pin;

use common::consumer::Delivery;
use common::db::{self, s};
use common::events::{Actor, DomainEvent, MatchedJob, SavedSearchMatched};
use common::tx::{Cond, Tx, TxError};
use common::vocab::{AlertFrequency, Job, SavedSearch};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};

use crate::docs::JobDoc;
use crate::engine;
use crate::indexer::JobState;
use crate::mappings::IndexKind;
use crate::query::{Bool, Query, Range, SearchBody, SearchResponse, Sort};
use crate::saved;

pub const CONSUMER: &str = "search-alerts";
const PAGE: usize = 500;
const VERIFY_CHUNK: usize = 100;
/// Job text words the reverse match looks at (title, skills, names, the description's start).
const JOB_WORDS: usize = 150;

/// A saved search as the saved-searches index holds it (no personal data: ids, filters, words).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedDoc {
    pub id: String,
    pub user_id: String,
    pub frequency: AlertFrequency,
    pub created_at: String,
    pub q_text: String,
    pub has_q: bool,
    pub category: Vec<String>,
    pub company_id: Vec<String>,
    pub employment_type: Vec<String>,
    pub experience_level: Vec<String>,
    pub workplace: Vec<String>,
    pub country: Vec<String>,
    /// Kept, not indexed: what verifying and alerting need without reading the table.
    pub stored: StoredSearch,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredSearch {
    pub name: String,
    pub query: serde_json::Map<String, serde_json::Value>,
}

impl SavedDoc {
    pub fn new(s: &SavedSearch) -> ApiResult<SavedDoc> {
        let q = saved::parse_query(&s.query)?;
        // The words and their synonyms, so "k8s" finds jobs that say Kubernetes.
        let q_text =
            q.q.as_deref()
                .map(|q| {
                    crate::synonyms::slots(q)
                        .into_iter()
                        .flat_map(|slot| std::iter::once(slot.text).chain(slot.alternatives.into_iter().map(str::to_string)))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
        let f = q.filters;
        Ok(SavedDoc {
            id: s.id.clone(),
            user_id: s.user_id.clone(),
            frequency: s.frequency,
            created_at: s.created_at.clone(),
            has_q: !q_text.is_empty(),
            q_text,
            category: f.categories,
            company_id: f.company_ids,
            employment_type: f.employment_types,
            experience_level: f.experience_levels,
            workplace: f.workplaces,
            country: f.countries,
            stored: StoredSearch {
                name: s.name.clone(),
                query: s.query.clone(),
            },
        })
    }
}

/// Keeps the saved-searches index in step: searches with alerts on are in it.
pub async fn sync_saved(app: &App, user_id: &str, id: &str) -> ApiResult<()> {
    match saved::get(app, user_id, id).await? {
        Some(s) if s.frequency != AlertFrequency::Off => {
            engine::put(app, IndexKind::SavedSearches, id, 1, &SavedDoc::new(&s)?).await?;
        }
        _ => {
            engine::delete(app, IndexKind::SavedSearches, id, crate::indexer::GONE).await?;
        }
    }
    Ok(())
}

/// Removes every saved search of an erased user from the index (no delete-by-query: found
/// by user, then deleted in bulk; one pass, as deleted documents may stay visible a moment).
pub async fn forget_user(app: &App, user_id: &str) -> ApiResult<()> {
    let ids = engine::ids(
        app,
        IndexKind::SavedSearches,
        "id",
        Query::all_of(vec![Query::term("user_id", user_id)]),
    )
    .await?;
    let ops = ids
        .into_iter()
        .map(|id| engine::BulkOp::Delete {
            id,
            version: crate::indexer::GONE,
        })
        .collect();
    engine::bulk(app, IndexKind::SavedSearches, ops).await
}

/// "the list filter allows this value": absent, or containing it.
fn allows(field: &str, value: &str) -> Query {
    Query::any_of(vec![
        Query::Bool(Box::new(Bool {
            must_not: vec![Query::Exists { field: field.into() }],
            ..Bool::default()
        })),
        Query::term(field, value),
    ])
}

/// The reverse query: saved searches that could match `doc`.
fn candidates_query(doc: &JobDoc, published_at: &str) -> Query {
    let words: Vec<String> = [&doc.title, &doc.company_name, &doc.category_name]
        .into_iter()
        .cloned()
        .chain(doc.skills.iter().cloned())
        .chain(std::iter::once(doc.description.clone()))
        .flat_map(|t| crate::synonyms::words(&t))
        .take(JOB_WORDS)
        .collect();
    let text = words.join(" ");
    Query::all_of(vec![
        Query::terms("frequency", &["instant".into(), "daily".into(), "weekly".into()]),
        Query::range(
            "created_at",
            Range {
                lte: Some(published_at.into()),
                ..Range::default()
            },
        ),
        allows("category", &doc.category),
        allows("company_id", &doc.company_id),
        allows("employment_type", &doc.employment_type),
        allows("experience_level", &doc.experience_level),
        allows("workplace", &doc.workplace),
        allows("country", &doc.country),
        Query::any_of(vec![
            Query::term("has_q", false),
            Query::matches("q_text", &text, None, Some("AUTO")),
        ]),
    ])
}

/// What matching one job cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchCost {
    /// Saved searches the reverse filters let through.
    pub candidates: usize,
    /// Of those, the ones whose own query finds the job.
    pub matched: usize,
    /// Requests to the engine.
    pub requests: usize,
}

/// The saved searches whose own query finds `job` (which must be in the jobs index).
pub async fn matching(app: &App, job: &Job, doc: &JobDoc) -> ApiResult<Vec<SavedDoc>> {
    Ok(matching_with_cost(app, job, doc).await?.0)
}

pub async fn matching_with_cost(app: &App, job: &Job, doc: &JobDoc) -> ApiResult<(Vec<SavedDoc>, MatchCost)> {
    let mut cost = MatchCost::default();
    let published = job.published_at.clone().unwrap_or_else(|| job.updated_at.clone());
    let mut after: Option<Vec<serde_json::Value>> = None;
    let mut out = Vec::new();
    loop {
        let mut body = SearchBody::new(candidates_query(doc, &published), PAGE);
        body.sort = vec![Sort::by("id", "asc")];
        body.search_after = after.take();
        let res: SearchResponse<SavedDoc> = engine::search(app, IndexKind::SavedSearches, &body).await?;
        cost.requests += 1;
        cost.candidates += res.hits.hits.len();
        let full = res.hits.hits.len() == PAGE;
        after = res.hits.hits.last().and_then(|h| h.sort.clone());
        let candidates: Vec<SavedDoc> = res.hits.hits.into_iter().map(|h| h.source).collect();
        for chunk in candidates.chunks(VERIFY_CHUNK) {
            out.extend(verify(app, job, chunk).await?);
            cost.requests += 1;
        }
        if !full || after.is_none() {
            cost.matched = out.len();
            return Ok((out, cost));
        }
    }
}

/// Runs each candidate's own query restricted to this job: one `_msearch`.
async fn verify(app: &App, job: &Job, candidates: &[SavedDoc]) -> ApiResult<Vec<SavedDoc>> {
    let now = common::time::now_secs();
    let mut kept = Vec::new();
    let mut bodies = Vec::new();
    for c in candidates {
        let Ok(search) = saved::parse_query(&c.stored.query) else {
            continue;
        };
        let mut body = search.body(0, None, 0, now);
        body.aggs.clear();
        body.highlight = None;
        body.sort.clear();
        body.track_total_hits = true;
        let mut filter = vec![Query::Ids {
            values: vec![job.id.clone()],
        }];
        filter.extend(body.post_filter.take());
        body.post_filter = None;
        body.query = Query::Bool(Box::new(Bool {
            must: vec![body.query],
            filter,
            ..Bool::default()
        }));
        kept.push(c.clone());
        bodies.push(body);
    }
    let answers = engine::msearch(app, IndexKind::Jobs, &bodies).await?;
    Ok(kept
        .into_iter()
        .zip(answers)
        .filter(|(_, a)| a["hits"]["total"]["value"].as_u64().unwrap_or(0) > 0)
        .map(|(c, _)| c)
        .collect())
}

/// When a queued match is sent: the next 08:00 UTC (daily), the next Monday 08:00 (weekly).
pub fn due_at(frequency: AlertFrequency, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::{Datelike, Duration, Timelike};
    let today8 = now.date_naive().and_hms_opt(8, 0, 0).unwrap_or_default().and_utc();
    let mut next = if now.hour() < 8 { today8 } else { today8 + Duration::days(1) };
    if frequency == AlertFrequency::Weekly {
        while next.weekday() != chrono::Weekday::Mon {
            next += Duration::days(1);
        }
    }
    next
}

fn marker_key(user_id: &str, saved_id: &str, job_id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), format!("ALERT#{saved_id}#{job_id}"))
}

fn matched_job(doc: &JobDoc) -> MatchedJob {
    MatchedJob {
        job_id: doc.id.clone(),
        title: doc.title.clone(),
        company_name: doc.company_name.clone(),
        city: doc.summary.location.city.clone(),
        country: doc.country.clone(),
    }
}

/// Records the match once: instant ones emit the alert, others are queued for the digest.
/// The transaction also checks that the saved search still exists with alerts on (the index
/// copy may lag an unsubscribe by a moment).
async fn record(app: &App, c: &SavedDoc, doc: &JobDoc) -> ApiResult<()> {
    let saved_name = c.stored.name.as_str();
    let mut marker = marker_key(&c.user_id, &c.id, &doc.id);
    marker.insert("entity".into(), s("alert"));
    marker.insert("job".into(), db::to_attr(&matched_job(doc))?);
    marker.insert(db::TTL.into(), db::n(common::time::now_secs() + 90 * 24 * 3600));
    let alerts_on = Cond::new("attribute_exists(PK) AND #f <> :off")
        .name("#f", "frequency")
        .value(":off", s(AlertFrequency::Off.as_str()));
    let mut tx = Tx::new(app).check("saved_search", saved::key(&c.user_id, &c.id), alerts_on);
    if c.frequency == AlertFrequency::Instant {
        tx = tx.emit(
            Actor::System,
            DomainEvent::SavedSearchMatched(SavedSearchMatched {
                saved_search_id: c.id.clone(),
                user_id: c.user_id.clone(),
                name: saved_name.to_string(),
                frequency: c.frequency,
                jobs: vec![matched_job(doc)],
            }),
        );
    } else {
        let due = due_at(c.frequency, chrono::Utc::now()).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        marker.insert("GSI1PK".into(), s(format!("DIGEST#{}", c.frequency.as_str())));
        marker.insert("GSI1SK".into(), s(format!("{due}#{}#{}", c.user_id, c.id)));
        marker.insert("saved_name".into(), s(saved_name));
    }
    match tx.put_item("marker", marker, Some(Cond::absent())).commit().await {
        Err(TxError::Condition { .. }) => Ok(()),
        other => Ok(other?),
    }
}

/// Published now, and not before this change.
pub fn becomes_visible(c: &common::events::JobChanged) -> bool {
    use common::vocab::JobStatus::Published;
    c.job.status == Published && c.previous_status != Some(Published)
}

/// Alerts the saved searches that the job matches, once each.
pub async fn alert_for(app: &App, job_id: &str) -> ApiResult<usize> {
    let Some(job) = jobs::get(app, job_id).await? else { return Ok(0) };
    alert_on(app, &JobState::read(app, job_id, &job.company_id, &job.category).await?).await
}

async fn alert_on(app: &App, state: &JobState) -> ApiResult<usize> {
    let Some(job) = state
        .job
        .as_ref()
        .filter(|j| crate::indexer::searchable(j, common::time::now_secs()))
    else {
        return Ok(0);
    };
    // The job must be searchable before its matches can be checked. The indexer handles the
    // same event in parallel: wait a little, then let the message come back later.
    let mut probe = SearchBody::new(
        Query::Ids {
            values: vec![job.id.clone()],
        },
        0,
    );
    probe.track_total_hits = true;
    let mut tries = 0;
    loop {
        let seen: SearchResponse<serde_json::Value> = engine::search(app, IndexKind::Jobs, &probe).await?;
        if seen.hits.total.map(|t| t.value).unwrap_or(0) > 0 {
            break;
        }
        tries += 1;
        if tries == 8 {
            return Err(ApiError::internal("the job is not searchable yet; retrying"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let doc = state.doc(job);
    let found = matching(app, job, &doc).await?;
    for c in &found {
        record(app, c, &doc).await?;
    }
    Ok(found.len())
}

/// The event types that can make a job visible, which saved-search alerts match.
/// Every variant is named (no wildcard), so a new event type is a decision here; the
/// subscription's SNS filter policy in template.yaml is checked against this (tests/it/
/// consumers.rs), and the consumer acknowledges anything else untouched.
pub fn receives(event: &common::events::DomainEvent) -> bool {
    use common::events::DomainEvent::*;
    match event {
        JobCreated(_) | JobUpdated(_) | JobRestored(_) => true,
        UserRegistered(_)
        | PasswordChanged(_)
        | PasswordReset(_)
        | PasswordResetRequested(_)
        | VerificationRequested(_)
        | UserUpdated(_)
        | UserSuspended(_)
        | UserReinstated(_)
        | UserRoleChanged(_)
        | UserDeleted(_)
        | CompanyCreated(_)
        | CompanyUpdated(_)
        | CompanyMemberInvited(_)
        | CompanyMemberAdded(_)
        | CompanyMemberRemoved(_)
        | JobClosed(_)
        | JobExpired(_)
        | JobReported(_)
        | JobSuspended(_)
        | ApplicationSubmitted(_)
        | ApplicationStatusChanged(_)
        | ApplicationWithdrawn(_)
        | InterviewScheduled(_)
        | InterviewRescheduled(_)
        | InterviewCancelled(_)
        | InterviewCompleted(_)
        | CategoryCreated(_)
        | CategoryUpdated(_)
        | CategoryDeactivated(_)
        | SavedSearchCreated(_)
        | SavedSearchUpdated(_)
        | SavedSearchDeleted(_)
        | SavedSearchMatched(_) => false,
    }
}

pub async fn handle(app: &'static App, delivery: Delivery) -> Result<(), String> {
    use DomainEvent::*;
    if !receives(&delivery.event) {
        return Ok(());
    }
    // Only a job that becomes visible is matched: edits of a visible job alert nobody.
    let job = match &delivery.event {
        JobCreated(c) | JobUpdated(c) | JobRestored(c) if becomes_visible(c) => &c.job,
        _ => return Ok(()),
    };
    let alerted = async {
        let state = JobState::read(app, &job.id, &job.company_id, &job.category).await?;
        alert_on(app, &state).await
    };
    alerted.await.map(|_| ()).map_err(|e| format!("{}: {:?}", e.message, e.source))
}

pub fn handler(app: &'static App, delivery: Delivery) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(handle(app, delivery))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn only_jobs_that_become_visible_are_matched() {
        use common::vocab::JobStatus::*;
        let sample = include_str!("../../../events/domain/job.created.json");
        let envelope: serde_json::Value = serde_json::from_str(sample).unwrap();
        let job: Job = serde_json::from_value(envelope["data"]["job"].clone()).unwrap();
        let change = |status, previous| {
            let mut job = job.clone();
            job.status = status;
            common::events::JobChanged {
                job,
                previous_status: previous,
                reason: None,
            }
        };
        assert!(becomes_visible(&change(Published, None)));
        assert!(becomes_visible(&change(Published, Some(Draft))));
        assert!(becomes_visible(&change(Published, Some(Suspended))));
        assert!(!becomes_visible(&change(Published, Some(Published))), "an edit");
        assert!(!becomes_visible(&change(Draft, None)));
        assert!(!becomes_visible(&change(Closed, Some(Published))));
    }

    #[test]
    fn digests_are_due_at_eight_and_on_mondays() {
        let wed_9 = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
        let wed_7 = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap();
        assert_eq!(due_at(AlertFrequency::Daily, wed_9).to_rfc3339(), "2026-11-26T08:00:00+00:00");
        assert_eq!(due_at(AlertFrequency::Daily, wed_7).to_rfc3339(), "2026-11-25T08:00:00+00:00");
        assert_eq!(due_at(AlertFrequency::Weekly, wed_9).to_rfc3339(), "2026-11-30T08:00:00+00:00");
    }
}
