//! The analytics consumer: whole batches from two queues (domain events from SNS, and the
//! ingest queue of client events and searches), added up before anything is written.
//!
//! Each message becomes units of work (client events in parts of [`PART`], so one unit's
//! items always fit a transaction with room to spare); units already counted are skipped;
//! the rest go in groups of at most 100 transaction parts (their dedupe records and the
//! items they touch), each group one transaction. Exactly once in effect: a unit's
//! dedupe record commits with its counts or not at all.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::pin::Pin;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use common::analytics::Ingest;
use common::events::{Actor, DomainEvent, Undecodable};
use common::App;

use crate::aggregate::{self, Deltas, Lookup, Unit, Work};
use crate::model::SHARDS;
use crate::store::{self, Refused};
use crate::views;

/// Client events per unit.
pub const PART: usize = 20;
/// The consumer's name in metrics.
const CONSUMER: &str = "analytics";
const ATTEMPTS: u32 = 6;

pub fn handler(app: &'static App, batch: SqsEvent) -> Pin<Box<dyn Future<Output = SqsBatchResponse> + Send>> {
    Box::pin(consume(app, batch))
}

async fn consume(app: &'static App, batch: SqsEvent) -> SqsBatchResponse {
    let mut failed = BTreeSet::new();
    let mut units = Vec::new();
    common::metrics::batch(CONSUMER, batch.records.len());
    let receives: std::collections::HashMap<String, String> = batch
        .records
        .iter()
        .filter_map(|m| Some((m.message_id.clone()?, m.attributes.get("ApproximateReceiveCount")?.clone())))
        .collect();
    for m in batch.records {
        let id = m.message_id.unwrap_or_default();
        match units_of(app, &id, m.body.as_deref().unwrap_or_default()) {
            Ok(mut u) => units.append(&mut u),
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "analytics message failed");
                failed.insert(id);
            }
        }
    }
    let handled = units.len();
    count(app, units, &mut failed).await;
    tracing::info!(units = handled, failed = failed.len(), "analytics batch counted");
    let mut response = SqsBatchResponse::default();
    for id in failed {
        common::metrics::failed(CONSUMER, receives.get(&id).map(String::as_str));
        let mut f = BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    response
}

/// The domain event types analytics counts: each is a person's action (an active user of
/// the day), and some add to a figure (signups, jobs posted, applications).
/// Every variant is named (no wildcard), so a new event type is a decision here; the
/// subscription's SNS filter policy in template.yaml is checked against this (tests/it/
/// consumers.rs), and the consumer acknowledges anything else untouched.
pub fn receives(event: &common::events::DomainEvent) -> bool {
    use common::events::DomainEvent::*;
    match event {
        UserRegistered(_)
        | UserUpdated(_)
        | CompanyCreated(_)
        | CompanyUpdated(_)
        | JobCreated(_)
        | JobUpdated(_)
        | JobClosed(_)
        | ApplicationSubmitted(_)
        | ApplicationStatusChanged(_)
        | ApplicationWithdrawn(_)
        | InterviewScheduled(_)
        | SavedSearchCreated(_) => true,
        PasswordChanged(_)
        | PasswordReset(_)
        | PasswordResetRequested(_)
        | VerificationRequested(_)
        | UserSuspended(_)
        | UserReinstated(_)
        | UserRoleChanged(_)
        | UserDeleted(_)
        | CompanyMemberInvited(_)
        | CompanyMemberAdded(_)
        | CompanyMemberRemoved(_)
        | JobExpired(_)
        | JobReported(_)
        | JobSuspended(_)
        | JobRestored(_)
        | InterviewRescheduled(_)
        | InterviewCancelled(_)
        | InterviewCompleted(_)
        | CategoryCreated(_)
        | CategoryUpdated(_)
        | CategoryDeactivated(_)
        | SavedSearchUpdated(_)
        | SavedSearchDeleted(_)
        | SavedSearchMatched(_) => false,
    }
}

/// The units of one message: an ingest message (client events, a search) or a domain event.
pub fn units_of(app: &App, message_id: &str, body: &str) -> Result<Vec<Unit>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
    if v.get("kind").is_some() {
        let ingest: Ingest = serde_json::from_value(v).map_err(|e| format!("not an ingest message: {e}"))?;
        return Ok(match ingest {
            Ingest::Client { id, visitor, user, events } => events
                .chunks(PART)
                .enumerate()
                .map(|(i, part)| Unit {
                    id: format!("{id}#{i}"),
                    message_id: message_id.to_string(),
                    work: Work::Client {
                        visitor: visitor.clone(),
                        user: user.clone(),
                        events: part.to_vec(),
                    },
                })
                .collect(),
            Ingest::Search {
                id,
                at,
                query_hash,
                query,
                results,
                user,
                ..
            } => vec![Unit {
                id,
                message_id: message_id.to_string(),
                work: Work::Search {
                    at,
                    query_hash,
                    query,
                    results,
                    user,
                },
            }],
        });
    }
    let envelope = common::consumer::parse_body(body)?;
    let event = match envelope.decode() {
        Ok(e) => e,
        Err(Undecodable::UnknownType(t)) => {
            tracing::warn!(event_type = %t, "unknown event type acknowledged uncounted");
            return Ok(vec![]);
        }
        Err(e) => return Err(format!("{}: {e:?}", envelope.kind)),
    };
    if !receives(&event) {
        return Ok(vec![]);
    }
    let at = common::time::parse_rfc3339(&envelope.occurred_at)
        .map(|t| t.timestamp())
        .ok_or(format!("occurred_at {:?} is not a time", envelope.occurred_at))?;
    let person = match (&envelope.actor, &event) {
        (Actor::User { id }, _) => Some(id.as_str()),
        (Actor::System, DomainEvent::UserRegistered(u)) => Some(u.user_id.as_str()),
        _ => None,
    };
    let user = person
        .map(|p| common::analytics::user_hash(app, p))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok(vec![Unit {
        id: envelope.id,
        message_id: message_id.to_string(),
        work: Work::Domain {
            at,
            user,
            event: Box::new(event),
        },
    }])
}

/// Counts `units` exactly once; the messages of units that could not be counted go to
/// `failed` (SQS delivers them again).
async fn count(app: &App, units: Vec<Unit>, failed: &mut BTreeSet<String>) {
    // A message delivered twice in one batch is one unit of work (its copy's message is
    // acknowledged with it: same content, counted once).
    let mut seen = HashSet::new();
    let mut pending: Vec<Unit> = units
        .into_iter()
        .filter(|u| !failed.contains(&u.message_id) && seen.insert(u.id.clone()))
        .collect();
    for attempt in 0..ATTEMPTS {
        if pending.is_empty() {
            return;
        }
        if attempt > 0 {
            let jitter = (ulid::Ulid::new().random() % 20) as u64;
            tokio::time::sleep(std::time::Duration::from_millis((20 << attempt) + jitter)).await;
        }
        let ids: Vec<String> = pending.iter().map(|u| u.id.clone()).collect();
        let lookup = match prepare(app, &ids, &mut pending).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "analytics lookups failed");
                continue;
            }
        };
        let shard = (ulid::Ulid::new().random() % SHARDS as u128) as u32;
        let mut retry = Vec::new();
        for (members, deltas) in groups(&pending, &lookup, shard) {
            let unit_ids: Vec<String> = members.iter().map(|&i| pending[i].id.clone()).collect();
            match store::apply(app, &unit_ids, &deltas).await {
                Ok(()) => {
                    for &i in &members {
                        if let Some(at) = pending[i].occurred_at() {
                            common::metrics::lag_since(CONSUMER, at);
                        }
                    }
                }
                Err(Refused::AlreadyDone | Refused::Conflict) => retry.extend(members),
                Err(Refused::Failed(e)) => {
                    tracing::warn!(error = %e, "analytics group failed");
                    retry.extend(members);
                }
            }
        }
        let mut keep = vec![false; pending.len()];
        for i in retry {
            keep[i] = true;
        }
        let mut flags = keep.into_iter();
        pending.retain(|_| flags.next().unwrap_or(false));
    }
    for u in pending {
        tracing::error!(unit = %u.id, "analytics unit not counted after retries");
        failed.insert(u.message_id);
    }
}

/// Drops the units already counted, looks up what the rest name, and drops the views that
/// repeat a counted one (crate::views).
async fn prepare(app: &App, ids: &[String], pending: &mut Vec<Unit>) -> common::ApiResult<Lookup> {
    let done = store::done(app, ids).await?;
    pending.retain(|u| !done.contains(&u.id));
    let (mut jobs, mut companies) = (HashSet::new(), HashSet::new());
    for u in pending.iter() {
        let (j, c) = u.references();
        jobs.extend(j);
        companies.extend(c);
    }
    let mut lookup = store::lookup(app, jobs, companies).await?;
    lookup.seen = store::seen(app, views::pairs(pending)).await?;
    views::drop_repeats(pending, &lookup.seen);
    Ok(lookup)
}

/// Units in groups whose dedupe records and items fit one transaction.
pub fn groups(units: &[Unit], lookup: &Lookup, shard: u32) -> Vec<(Vec<usize>, Deltas)> {
    let mut out = Vec::new();
    let (mut members, mut deltas): (Vec<usize>, Deltas) = (Vec::new(), Deltas::new());
    for (i, unit) in units.iter().enumerate() {
        let mut own = Deltas::new();
        aggregate::add(&mut own, unit, lookup, shard);
        let new = own.keys().filter(|k| !deltas.contains_key(*k)).count();
        if !members.is_empty() && members.len() + 1 + deltas.len() + new > common::tx::MAX_PARTS {
            out.push((std::mem::take(&mut members), std::mem::take(&mut deltas)));
        }
        aggregate::add(&mut deltas, unit, lookup, shard);
        members.push(i);
    }
    if !members.is_empty() {
        out.push((members, deltas));
    }
    out
}
