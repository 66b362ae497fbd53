//! Job categories (API.md, "Companies and categories"): admins create, rename, describe,
//! deactivate and reactivate them; anyone lists the active ones with their open-job counts.
//!
//! Item: `PK = CATEGORY#<slug>`, `SK = CATEGORY`. Active categories are also in the sparse
//! index `GSI1PK = CATEGORIES`, `GSI1SK = <lower-case name>#<slug>` (listing by name);
//! deactivating removes those keys, so the public list never filters.

pub mod rules;

use aws_sdk_dynamodb::types::AttributeValue;
use common::api_doc::ErrorBody;
use common::audit::AuditEntry;
use common::cursor::{query_page, ListQuery, Page};
use common::db::{self, s, Keyed};
use common::events::{Actor, CategoryChanged, DomainEvent};
use common::http::{created, ok, parse_json, path_param, status_only, Request, Response};
use common::token::Principal;
use common::tx::{Cond, Tx, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::Slug;
pub use common::vocab::Category;

/// A category as stored; active ones are listed in GSI1 by name.
type CategoryItem = Keyed<Category>;

pub fn category_pk(slug: &str) -> String {
    format!("CATEGORY#{slug}")
}
pub const SK: &str = "CATEGORY";

/// For a job write's transaction: the category exists and is active (part `category`).
pub fn active_check<'a>(tx: Tx<'a>, slug: &str) -> Tx<'a> {
    tx.check(
        "category",
        db::key(category_pk(slug), SK),
        Cond::new("active = :t").value(":t", AttributeValue::Bool(true)),
    )
}

/// For a job write's transaction: `open_job_count += delta` (part `category`); the category
/// must exist, and be active when `must_be_active` (a job entering it).
pub fn count_open<'a>(tx: Tx<'a>, slug: &str, delta: i64, must_be_active: bool) -> Tx<'a> {
    let cond = if must_be_active {
        Cond::new("active = :t").value(":t", AttributeValue::Bool(true))
    } else {
        Cond::present()
    };
    tx.update(
        "category",
        db::key(category_pk(slug), SK),
        Cond::new("ADD open_job_count :d").value(":d", db::n(delta)),
        Some(cond),
    )
}
const INDEX: &str = "CATEGORIES";

fn item(c: &Category) -> CategoryItem {
    Keyed::new(category_pk(&c.slug), SK, "category", c.clone()).in_index_if(
        c.active,
        1,
        INDEX,
        format!("{}#{}", c.name.to_lowercase(), c.slug),
    )
}

/// The key of a category's item, for reads batched with other domains' items.
pub fn key(slug: &str) -> db::Item {
    db::key(category_pk(slug), SK)
}

/// The category of an item read by [`key`].
pub fn from_item(item: db::Item) -> ApiResult<Category> {
    Ok(db::from_item::<CategoryItem>(item)?.value)
}

pub async fn get(app: &App, slug: &str) -> ApiResult<Option<Category>> {
    Ok(db::get::<CategoryItem>(app, category_pk(slug), SK).await?.map(|i| i.value))
}

fn slug_param(req: &Request) -> ApiResult<Slug> {
    Slug::parse(&path_param(req, "slug")?).ok_or_else(|| ApiError::not_found("no such category"))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such category")
}

/// Writes `after` (replacing `before`, if any, only if unchanged meanwhile) with its event
/// and audit entry in one transaction.
async fn save(
    app: &App,
    actor: &Principal,
    before: Option<&Category>,
    after: &Category,
    action: fn(CategoryChanged) -> DomainEvent,
) -> ApiResult<()> {
    let tx = auth::account::writes_by(app, actor);
    // An update sets the fields admins change and leaves `open_job_count` alone: job writes
    // ADD to it concurrently, and a whole-item Put would undo their counts.
    let tx = match before {
        None => tx.put_new("category", &item(after)),
        Some(b) => {
            let indexed = item(after).index;
            let mut set = vec!["#name = :name", "active = :active", "updated_at = :now"];
            let mut remove = Vec::new();
            let mut u = Cond::default()
                .name("#name", "name")
                .value(":name", s(&after.name))
                .value(":active", AttributeValue::Bool(after.active))
                .value(":now", s(&after.updated_at));
            match &after.description {
                Some(d) => {
                    set.push("description = :d");
                    u = u.value(":d", s(d));
                }
                None => remove.push("description"),
            }
            match (indexed.gsi1pk, indexed.gsi1sk) {
                (Some(pk), Some(sk)) => {
                    set.extend(["GSI1PK = :g1pk", "GSI1SK = :g1sk"]);
                    u = u.value(":g1pk", s(pk)).value(":g1sk", s(sk));
                }
                _ => remove.extend(["GSI1PK", "GSI1SK"]),
            }
            let mut expr = format!("SET {}", set.join(", "));
            if !remove.is_empty() {
                expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
            }
            let unchanged = Cond::new("updated_at = :prev").value(":prev", s(&b.updated_at));
            tx.update("category", db::key(category_pk(&after.slug), SK), u.expr(expr), Some(unchanged))
        }
    };
    let event = action(CategoryChanged { category: after.clone() });
    let tx = tx
        .audit(&AuditEntry::new(actor, event.kind(), "category", &after.slug, before, Some(after)))
        .emit(Actor::user(&actor.user_id), event);
    match tx.commit().await {
        Err(TxError::Condition { part: "category", .. }) => Err(match before {
            None => ApiError::conflict("slug_taken", format!("a category with the slug \"{}\" exists already", after.slug)),
            Some(_) => ApiError::conflict("concurrent_change", "the category changed meanwhile; reload and retry"),
        }),
        other => Ok(other?),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategory {
    /// The slug is derived from it and never changes.
    pub name: String,
    pub description: Option<String>,
}

/// POST /categories
#[utoipa::path(post, path = "/categories", tag = "categories", request_body = CreateCategory, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Category), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`slug_taken`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = auth::account::require_admin(app, &req).await?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &actor.user_id).await? {
        return Ok(done);
    }
    let body: CreateCategory = parse_json(&req)?;
    let mut p = common::error::FieldErrors::new();
    let name = rules::name(&body.name)
        .map_err(|e| p.entry("name".into()).or_default().push(e.into()))
        .ok();
    let slug = name
        .as_deref()
        .map(Slug::from_name)
        .transpose()
        .map_err(|e| p.entry("name".into()).or_default().push(e.into()))
        .ok()
        .flatten();
    let description = rules::description(body.description.as_deref().unwrap_or_default())
        .map_err(|e| p.entry("description".into()).or_default().push(e.into()))
        .ok();
    if !p.is_empty() {
        return Err(ApiError::validation(p));
    }
    let (Some(name), Some(slug)) = (name, slug) else {
        return Err(ApiError::invalid_field("name", "is required"));
    };
    let description = description.flatten();
    let scope = actor.user_id.clone();
    let work = Box::pin(async move {
        let now = common::time::now_rfc3339();
        let c = Category {
            slug: slug.as_str().to_string(),
            name,
            description,
            active: true,
            open_job_count: 0,
            created_at: now.clone(),
            updated_at: now,
        };
        save(app, &actor, None, &c, DomainEvent::CategoryCreated).await?;
        created(&c)
    });
    common::idempotency::run(app, &req, &scope, work).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    pub name: Option<String>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `true` reactivates a deactivated category.
    pub active: Option<bool>,
}

/// PATCH /categories/{slug}
#[utoipa::path(patch, path = "/categories/{slug}", tag = "categories", request_body = UpdateCategory, security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = Category), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`concurrent_change`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = auth::account::require_admin(app, &req).await?;
    let body: UpdateCategory = parse_json(&req)?;
    let slug = slug_param(&req)?;
    let mut p = common::error::FieldErrors::new();
    let name = body
        .name
        .as_deref()
        .map(rules::name)
        .transpose()
        .map_err(|e| p.entry("name".into()).or_default().push(e.into()))
        .ok()
        .flatten();
    let description = body
        .description
        .map(|d| rules::description(d.as_deref().unwrap_or_default()))
        .transpose()
        .map_err(|e| p.entry("description".into()).or_default().push(e.into()))
        .ok()
        .flatten();
    if !p.is_empty() {
        return Err(ApiError::validation(p));
    }
    let before = get(app, slug.as_str()).await?.ok_or_else(not_found)?;
    let mut after = before.clone();
    if let Some(n) = name {
        after.name = n;
    }
    if let Some(d) = description {
        after.description = d;
    }
    if let Some(a) = body.active {
        after.active = a;
    }
    if after == before {
        return ok(&before);
    }
    after.updated_at = common::time::now_rfc3339();
    save(app, &actor, Some(&before), &after, DomainEvent::CategoryUpdated).await?;
    ok(&after)
}

/// DELETE /categories/{slug}: deactivates (jobs keep their category; it leaves the list).
#[utoipa::path(delete, path = "/categories/{slug}", tag = "categories", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 204, description = "deactivated (idempotent)"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deactivate(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = auth::account::require_admin(app, &req).await?;
    let slug = slug_param(&req)?;
    let before = get(app, slug.as_str()).await?.ok_or_else(not_found)?;
    if before.active {
        let mut after = before.clone();
        after.active = false;
        after.updated_at = common::time::now_rfc3339();
        save(app, &actor, Some(&before), &after, DomainEvent::CategoryDeactivated).await?;
    }
    status_only(StatusCode::NO_CONTENT)
}

/// GET /categories/{slug}
#[utoipa::path(get, path = "/categories/{slug}", tag = "categories", params(("slug" = String, Path)),
    responses((status = 200, description = "also deactivated ones (`active: false`)", body = Category), (status = 404, body = ErrorBody)))]
pub async fn read(app: &'static App, req: Request) -> ApiResult<Response> {
    let slug = slug_param(&req)?;
    ok(&get(app, slug.as_str()).await?.ok_or_else(not_found)?)
}

#[derive(Serialize, ToSchema)]
pub struct CategoryPage {
    pub items: Vec<Category>,
    pub next_cursor: Option<String>,
}

/// GET /categories: active categories by name, with open-job counts.
#[utoipa::path(get, path = "/categories", tag = "categories",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = CategoryPage), (status = 400, description = "`invalid_cursor`, `invalid_limit`", body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let q = ListQuery {
        index: Some("GSI1"),
        key_name: db::GSI1PK,
        key: INDEX.into(),
        newest_first: false,
    };
    let page: Page<CategoryItem> = query_page(app, &req, "GET /categories", q).await?;
    ok(&Page {
        items: page.items.into_iter().map(|i| i.value).collect(),
        next_cursor: page.next_cursor,
    })
}

common::functions! {
    openapi(tags((name = "categories", description = "Admin-managed job categories; slug derived from the name")));
    http {
        "categories-create" => create: table(&[Get, Put, Update, Delete, ConditionCheck]).indexes(),
        "categories-list" => list: table(&[Query]).indexes(),
        "categories-read" => read: table(&[Get]).indexes(),
        "categories-update" => update: table(&[Get, Put, Update, ConditionCheck]).indexes(),
        "categories-deactivate" => deactivate: table(&[Get, Put, Update, ConditionCheck]).indexes(),
    }
}
