//! Client events in: checked, then handed to the analytics consumer as one message on the
//! ingest queue (no table write per event; the rate limiter bounds each caller).

use common::analytics::{self, ClientEvent, ClientEventType, Ingest, Visitor};
use common::api_doc::ErrorBody;
use common::error::Problems;
use common::http::{json, parse_json, Request, Response};
use common::{ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Events per request.
pub const MAX_EVENTS: usize = 50;
/// A client session id, at most (ASCII letters, digits, `-`, `_`).
pub const SESSION_ID_MAX: usize = 128;
/// A search click's position in the results, at most (from 1).
pub const POSITION_MAX: u32 = 1000;
/// How old an event may be.
pub const MAX_AGE_SECS: i64 = 24 * 3600;
/// How far ahead of the server's clock an event may be (clients' clocks drift).
pub const MAX_SKEW_SECS: i64 = 300;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsBody {
    /// The client's session (letters, digits, `-`, `_`; at most 128): distinct viewers are
    /// counted by it when nobody is signed in. Only a keyed hash of it is kept.
    pub session_id: Option<String>,
    /// 1 to 50 events.
    #[serde(deserialize_with = "common::values::objects")]
    pub events: Vec<EventIn>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    #[serde(rename = "type")]
    pub kind: ClientEventType,
    /// Required for job_view, job_impression, apply_click, search_click.
    pub job_id: Option<String>,
    /// Required for company_view.
    pub company_id: Option<String>,
    /// The `search_id` of the /search/jobs reply; required for search_click.
    pub search_id: Option<String>,
    /// 1-based rank in the results; required for search_click.
    #[serde(default, deserialize_with = "common::values::whole_opt")]
    pub position: Option<u32>,
    /// RFC 3339; default now. Older than 24 h or ahead of now: rejected (not counted).
    pub occurred_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub accepted: usize,
    /// Too old, in the future, or sent by a known bot: not counted.
    pub rejected: usize,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickBody {
    pub search_id: String,
    pub job_id: String,
    #[serde(deserialize_with = "common::values::whole")]
    pub position: u32,
}

fn session(p: &mut Problems, raw: Option<&str>) -> Option<String> {
    let s = raw?.trim();
    let ok = !s.is_empty() && s.len() <= SESSION_ID_MAX && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        p.add("session_id", "letters, digits, - and _, at most 128");
    }
    ok.then(|| s.to_string())
}

fn ulid(p: &mut Problems, field: &str, raw: Option<&str>, needed: bool) -> Option<String> {
    match raw.map(|r| ulid::Ulid::from_string(r.trim())) {
        Some(Ok(u)) => Some(u.to_string()),
        Some(Err(_)) => {
            p.add(field, "not an id");
            None
        }
        None if needed => {
            p.add(field, "required for this type");
            None
        }
        None => None,
    }
}

/// One event checked: `Ok(None)` when it is well formed but outside the time window.
fn check(p: &mut Problems, i: usize, e: &EventIn, now: i64) -> Option<ClientEvent> {
    use ClientEventType::*;
    let f = |name: &str| format!("events[{i}].{name}");
    let on_job = matches!(e.kind, JobView | JobImpression | ApplyClick | SearchClick);
    let job_id = ulid(p, &f("job_id"), e.job_id.as_deref(), on_job);
    let company_id = ulid(p, &f("company_id"), e.company_id.as_deref(), e.kind == CompanyView);
    let query_hash = match (e.kind, e.search_id.as_deref()) {
        (SearchClick, Some(s)) => analytics::parse_search_id(s).or_else(|| {
            p.add(&f("search_id"), "not a search id of /search/jobs");
            None
        }),
        (SearchClick, None) => {
            p.add(&f("search_id"), "required for this type");
            None
        }
        _ => None,
    };
    if (e.kind == SearchClick || e.position.is_some()) && !e.position.is_some_and(|n| (1..=POSITION_MAX).contains(&n)) {
        p.add(&f("position"), "1 to 1000; required for search_click");
    }
    let at = match e.occurred_at.as_deref().map(common::time::parse_rfc3339) {
        None => now,
        Some(Some(t)) => t.timestamp(),
        Some(None) => {
            p.add(&f("occurred_at"), "not an RFC 3339 time");
            now
        }
    };
    let fresh = at >= now - MAX_AGE_SECS && at <= now + MAX_SKEW_SECS;
    fresh.then_some(ClientEvent {
        kind: e.kind,
        job_id,
        company_id,
        query_hash,
        position: e.position,
        at,
    })
}

/// POST /analytics/events: 202 `{accepted, rejected}`.
#[utoipa::path(post, path = "/analytics/events", tag = "analytics", request_body = EventsBody, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn events(app: &'static App, req: Request) -> ApiResult<Response> {
    // Keys of anonymous callers share one scope, as registration's do: a key is a random
    // value per batch, and a different batch under the same key is refused (422).
    common::idempotency::once(app, &req, "anonymous", events_now(app, &req)).await
}

async fn events_now(app: &'static App, req: &Request) -> ApiResult<Response> {
    let body: EventsBody = parse_json(req)?;
    let mut p = Problems::default();
    if body.events.is_empty() || body.events.len() > MAX_EVENTS {
        p.add("events", "1 to 50 events");
        return Err(p.into_error());
    }
    let session = session(&mut p, body.session_id.as_deref());
    let now = common::time::now_secs();
    let checked: Vec<Option<ClientEvent>> = body.events.iter().enumerate().map(|(i, e)| check(&mut p, i, e, now)).collect();
    p.into_result()?;
    let visitor = Visitor::of(app, req, session.as_deref())?;
    let events: Vec<ClientEvent> = checked.into_iter().flatten().collect();
    let rejected = body.events.len() - events.len();
    record(app, visitor, events, rejected).await
}

/// POST /search/clicks: a click on a result of /search/jobs; 202 `{accepted, rejected}`.
#[utoipa::path(post, path = "/search/clicks", tag = "analytics", request_body = ClickBody,
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn search_click(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: ClickBody = parse_json(&req)?;
    let mut p = Problems::default();
    let event = EventIn {
        kind: ClientEventType::SearchClick,
        job_id: Some(body.job_id),
        company_id: None,
        search_id: Some(body.search_id),
        position: Some(body.position),
        occurred_at: None,
    };
    let checked = check(&mut p, 0, &event, common::time::now_secs());
    p.into_result()?;
    let visitor = Visitor::of(app, &req, None)?;
    record(app, visitor, checked.into_iter().collect(), 0).await
}

async fn record(app: &App, visitor: Visitor, events: Vec<ClientEvent>, rejected: usize) -> ApiResult<Response> {
    if visitor.bot {
        return json(
            StatusCode::ACCEPTED,
            &Accepted {
                accepted: 0,
                rejected: rejected + events.len(),
            },
        );
    }
    let accepted = events.len();
    if accepted > 0 {
        let message = Ingest::Client {
            id: ulid::Ulid::new().to_string(),
            visitor: visitor.visitor,
            user: visitor.user,
            events,
        };
        analytics::send(app, &message).await?;
    }
    json(StatusCode::ACCEPTED, &Accepted { accepted, rejected })
}
