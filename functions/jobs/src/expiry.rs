//! The expiry schedule: stores open jobs whose deadline has passed as `expired`, takes them
//! off the open lists and counts, and emits `job.expired`. Reads already treat such jobs as
//! expired the moment the deadline passes; this makes the stored state follow.

use aws_sdk_dynamodb::types::AttributeValue;
use common::db::{self, s};
use common::events::DomainEvent;
use common::{ApiResult, App};

use crate::rules::JobStatus;
use crate::{commit, By, JobItem, DEADLINES};

/// Jobs one run expires at most (the next run takes the rest).
pub const MAX_PER_RUN: usize = 1000;

/// Expires every open job whose deadline has passed; returns how many it expired.
pub async fn expire_due(app: &App) -> ApiResult<usize> {
    let now_secs = common::time::now_secs();
    // Deadline index keys are `<deadline>#<job id>`; `~` sorts after every id character.
    let bound = format!("{}#~", common::time::rfc3339(now_secs));
    let mut start = None;
    let mut expired = 0;
    let mut seen = 0;
    loop {
        let out = app
            .dynamo()
            .query()
            .table_name(app.table())
            .index_name("GSI5")
            .key_condition_expression("GSI5PK = :k AND GSI5SK < :bound")
            .expression_attribute_values(":k", s(DEADLINES))
            .expression_attribute_values(":bound", AttributeValue::S(bound.clone()))
            .limit(100)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in out.items.unwrap_or_default() {
            seen += 1;
            let before = db::from_item::<JobItem>(item)?.value.job;
            if before.status != JobStatus::Published || before.status_at(now_secs) != JobStatus::Expired {
                continue;
            }
            let mut after = before.clone();
            after.status = JobStatus::Expired;
            after.version += 1;
            after.updated_at = common::time::now_rfc3339();
            match commit(app, Some(&before), &after, DomainEvent::JobExpired, By::Schedule, None, |tx| tx).await {
                Ok(()) => expired += 1,
                // Changed meanwhile (closed, edited): the next run sees the new state.
                Err(e) if e.status == http::StatusCode::CONFLICT => {}
                Err(e) => return Err(e),
            }
        }
        start = out.last_evaluated_key;
        if start.is_none() || seen >= MAX_PER_RUN {
            break;
        }
    }
    if expired > 0 {
        tracing::info!(expired, "expired jobs past their deadline");
    }
    Ok(expired)
}

/// The scheduled function's handler.
/// Open jobs whose deadline falls in `(from_secs, to_secs]`, soonest first (the
/// notifications schedule warns their companies).
pub async fn closing_between(app: &App, from_secs: i64, to_secs: i64) -> ApiResult<Vec<crate::Job>> {
    // Deadline index keys are `<deadline>#<job id>`; `~` sorts after every id character.
    let (low, high) = (
        format!("{}#~", common::time::rfc3339(from_secs)),
        format!("{}#~", common::time::rfc3339(to_secs)),
    );
    let mut out = Vec::new();
    for item in db::query_between(app, Some("GSI5"), DEADLINES, &low, &high).await? {
        let job = db::from_item::<JobItem>(item)?.value.job;
        if job.status == JobStatus::Published {
            out.push(job);
        }
    }
    Ok(out)
}

pub fn handler(app: &'static App) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>> {
    Box::pin(async move {
        expire_due(app)
            .await
            .map(|_| ())
            .map_err(|e| format!("{}: {:?}", e.message, e.source))
    })
}
