//! Saved searches: a user's GET /search/jobs parameters under a name, with an alert
//! frequency. Stored in the user's partition (erasure removes them with the account),
//! listed through GSI1 `SAVEDSEARCHES#<user>`; a counter item keeps the 25-per-user limit
//! race-free. The indexer copies those with alerts on into the saved-searches index.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | saved search | `USER#<user>` | `SAVEDSEARCH#<id>` | GSI1 `SAVEDSEARCHES#<user>` by id |
//! | counter | `USER#<user>` | `SAVEDSEARCHES` | |

use common::api_doc::ErrorBody;
use common::db::{self, Keyed};
use common::events::{Actor, DomainEvent, SavedSearchChanged, SavedSearchRef};
use common::http::{authenticate, created, parse_json, status_only, Request, Response};
use common::tx::{Cond, Tx, TxError};
use common::vocab::{AlertFrequency, SavedSearch};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::params::{JobSearch, NAMES};

type SavedItem = Keyed<SavedSearch>;

fn sk(id: &str) -> String {
    format!("SAVEDSEARCH#{id}")
}
fn list_key(user_id: &str) -> String {
    format!("SAVEDSEARCHES#{user_id}")
}
pub fn key(user_id: &str, id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), sk(id))
}
fn counter_key(user_id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), "SAVEDSEARCHES")
}

fn item(s: &SavedSearch) -> SavedItem {
    Keyed::new(auth::account::partition(&s.user_id), sk(&s.id), "saved_search", s.clone()).in_index(1, list_key(&s.user_id), s.id.clone())
}

/// A query value as the parser reads it: strings as they are, numbers and booleans as text,
/// lists joined with commas.
fn as_param(v: &Value) -> Option<String> {
    match v {
        Value::Array(a) => a.iter().map(scalar).collect::<Option<Vec<_>>>().map(|v| v.join(",")),
        v => scalar(v),
    }
}

/// Text, a number or true/false (a list holds these, not more lists).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The query as it is stored: as given, but fractional numbers kept to six decimal places,
/// the finest any search parameter uses (coordinates, about 11 cm). A number as small as
/// `1e-300` passes the parser (a latitude of 0) but is below what DynamoDB stores.
fn storable(query: Map<String, Value>) -> Map<String, Value> {
    fn number(v: Value) -> Value {
        match v {
            Value::Number(n) if n.is_f64() => {
                let six = n.as_f64().map(common::values::six_decimals);
                six.and_then(serde_json::Number::from_f64).map_or(Value::Number(n), Value::Number)
            }
            Value::Array(a) => Value::Array(a.into_iter().map(number).collect()),
            v => v,
        }
    }
    query.into_iter().map(|(k, v)| (k, number(v))).collect()
}

/// Parses a stored or submitted query with the /search/jobs parser.
pub fn parse_query(query: &Map<String, Value>) -> ApiResult<JobSearch> {
    if let Some(k) = query.keys().find(|k| !NAMES.contains(&k.as_str())) {
        return Err(ApiError::invalid_field("query", format!("\"{k}\" is not a search parameter")));
    }
    if let Some((k, _)) = query.iter().find(|(_, v)| as_param(v).is_none()) {
        return Err(ApiError::invalid_field(
            "query",
            format!("\"{k}\" must be text, a number, true/false or a list of these"),
        ));
    }
    JobSearch::parse(|k| query.get(k).and_then(as_param)).map_err(|e| {
        let mut fields = common::error::FieldErrors::new();
        if let Some(Value::Object(d)) = e.body("").get("details") {
            for (k, v) in d {
                let texts = v.as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_string));
                fields.insert(format!("query.{k}"), texts.collect());
            }
        }
        ApiError::validation(fields).with_code("invalid_query")
    })
}

/// A saved search's name, at most (characters).
pub const NAME_MAX: usize = 100;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSavedSearch {
    pub name: String,
    /// The GET /search/jobs parameters (q, category, salary_min, ...).
    #[schema(value_type = Object)]
    pub query: Map<String, Value>,
    #[serde(default = "instant")]
    pub frequency: AlertFrequency,
}

fn instant() -> AlertFrequency {
    AlertFrequency::Instant
}

/// POST /me/saved-searches
#[utoipa::path(post, path = "/me/saved-searches", tag = "search", security(("bearer" = [])), request_body = CreateSavedSearch,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = SavedSearch), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`too_many_saved_searches` (25 per user)", body = ErrorBody),
        (status = 422, description = "`invalid_query` (the query's parameters, as GET /search/jobs checks them), name", body = ErrorBody)))]
pub async fn create(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &me.user_id).await? {
        return Ok(done);
    }
    let body: CreateSavedSearch = parse_json(&req)?;
    let name = common::values::required_line(&body.name, NAME_MAX).map_err(|e| ApiError::invalid_field("name", e))?;
    parse_query(&body.query)?;
    let saved = SavedSearch {
        id: ulid::Ulid::new().to_string(),
        user_id: me.user_id.clone(),
        name,
        query: storable(body.query),
        frequency: body.frequency,
        created_at: common::time::now_rfc3339(),
    };
    let scope = me.user_id.clone();
    let work = Box::pin(async move {
        let tx = auth::account::writes_by(app, &me)
            .update(
                "limit",
                counter_key(&me.user_id),
                Cond::add("count", 1),
                Some(Cond::below("count", app.settings.quotas.saved_searches)),
            )
            .put_new("saved_search", &item(&saved))
            .emit(
                Actor::user(&me.user_id),
                DomainEvent::SavedSearchCreated(SavedSearchChanged {
                    saved_search: saved.clone(),
                }),
            );
        match tx.commit().await {
            Err(TxError::Condition { part: "limit", .. }) => {
                let limit = app.settings.quotas.saved_searches;
                let mut e = common::quota::exceeded("saved_searches", limit, format!("at most {limit} saved searches; delete one first"));
                e.code = "too_many_saved_searches";
                Err(e)
            }
            other => {
                other?;
                created(&public(saved))
            }
        }
    });
    common::idempotency::run(app, &req, &scope, work).await
}

/// The user id is the caller's own: not repeated in replies.
fn public(mut s: SavedSearch) -> SavedSearch {
    s.user_id = String::new();
    s
}

#[derive(Serialize, ToSchema)]
pub struct SavedSearchPage {
    pub items: Vec<SavedSearch>,
    pub next_cursor: Option<String>,
}

/// GET /me/saved-searches
#[utoipa::path(get, path = "/me/saved-searches", tag = "search", security(("bearer" = [])),
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "newest first", body = SavedSearchPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let context = format!("saved-searches?{}", me.user_id);
    let page = common::cursor::query_page::<SavedItem>(
        app,
        &req,
        &context,
        common::cursor::ListQuery {
            index: Some("GSI1"),
            key_name: "GSI1PK",
            key: list_key(&me.user_id),
            newest_first: true,
        },
    )
    .await?;
    common::http::ok(&SavedSearchPage {
        items: page.items.into_iter().map(|i| public(i.value)).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Every saved search of a user (export).
pub async fn all_of(app: &App, user_id: &str) -> ApiResult<Vec<SavedSearch>> {
    db::query_all(app, Some("GSI1"), list_key(user_id), None)
        .await?
        .into_iter()
        .map(|i| db::from_item::<SavedItem>(i).map(|s| public(s.value)))
        .collect()
}

pub async fn get(app: &App, user_id: &str, id: &str) -> ApiResult<Option<SavedSearch>> {
    Ok(db::get::<SavedItem>(app, auth::account::partition(user_id), sk(id))
        .await?
        .map(|i| i.value))
}

/// DELETE /me/saved-searches/{id}
#[utoipa::path(delete, path = "/me/saved-searches/{id}", tag = "search", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let id = common::http::id_param(&req, "id", "saved search")?;
    let missing = || ApiError::not_found("no such saved search");
    let tx = auth::account::writes_by(app, &me)
        .delete("saved_search", key(&me.user_id, &id), Some(Cond::present()))
        .update("limit", counter_key(&me.user_id), Cond::add("count", -1), None)
        .emit(
            Actor::user(&me.user_id),
            DomainEvent::SavedSearchDeleted(SavedSearchRef {
                saved_search_id: id.clone(),
                user_id: me.user_id.clone(),
            }),
        );
    match tx.commit().await {
        Err(TxError::Condition { part: "saved_search", .. }) => Err(missing()),
        other => {
            other?;
            status_only(http::StatusCode::NO_CONTENT)
        }
    }
}

/// Turns a saved search's alerts off (the unsubscribe link). False when it is gone.
pub async fn turn_off(app: &App, user_id: &str, id: &str) -> ApiResult<Option<SavedSearch>> {
    let Some(mut saved) = get(app, user_id, id).await? else {
        return Ok(None);
    };
    if saved.frequency == AlertFrequency::Off {
        return Ok(Some(saved));
    }
    saved.frequency = AlertFrequency::Off;
    let tx = Tx::new(app).put_if("saved_search", &item(&saved), Cond::present()).emit(
        Actor::System,
        DomainEvent::SavedSearchUpdated(SavedSearchChanged {
            saved_search: saved.clone(),
        }),
    );
    match tx.commit().await {
        Err(TxError::Condition { .. }) => Ok(None),
        other => {
            other?;
            Ok(Some(saved))
        }
    }
}
