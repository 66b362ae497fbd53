//! Companies and their members (API.md, "Companies and categories").
//!
//! | item | PK | SK |
//! |---|---|---|
//! | company | `COMPANY#<id>` | `PROFILE` (GSI1: `COMPANIES` / `<created_at>#<id>`, newest first) |
//! | member (by company) | `COMPANY#<id>` | `MEMBER#<user id>` |
//! | membership (by user) | `USER#<user id>` | `COMPANY#<id>` |
//!
//! The creator is the owner. Both membership items are written together, so "is this user
//! a member of that company" is one GetItem and "who works here" one Query. Owners invite
//! employers by email; the invitee accepts or declines ([`invitations`]). The owner count
//! ([`owners`]) keeps at least one owner under concurrent removals.

pub mod invitations;
pub mod members;
pub mod owners;
pub mod rules;

use common::api_doc::ErrorBody;
use common::cursor::{query_page, ListQuery, Page};
use common::db::{self, Keyed};
use common::error::Problems;
use common::events::{Actor, CompanyChanged, DomainEvent};
use common::http::{created, ok, parse_json, require_role, Request, Response};
use common::token::Role;
use common::tx::{Cond, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::{CompanySize, Location};
pub use common::vocab::{Company, MemberRole};

#[derive(Serialize, Deserialize)]
pub(crate) struct Membership {
    #[serde(rename = "PK")]
    pub(crate) pk: String,
    #[serde(rename = "SK")]
    pub(crate) sk: String,
    pub(crate) entity: String,
    pub(crate) company_id: String,
    pub(crate) user_id: String,
    pub(crate) role: MemberRole,
    pub(crate) joined_at: String,
}

pub fn company_pk(id: &str) -> String {
    format!("COMPANY#{id}")
}
const PROFILE: &str = "PROFILE";
const INDEX: &str = "COMPANIES";

/// A company as stored: its page item, listed in GSI1 by creation.
type CompanyItem = Keyed<Company>;

fn item(c: &Company) -> CompanyItem {
    Keyed::new(company_pk(&c.id), PROFILE, "company", c.clone()).in_index(1, INDEX, format!("{}#{}", c.created_at, c.id))
}

/// For a job write's transaction: `open_job_count += delta` and a new version (part
/// `company`); the company must exist.
/// Moves the company's open-job count by `delta` (part `company`); a job that opens needs the
/// count below `limit` (the open-jobs quota) at commit time.
pub fn count_open<'a>(tx: common::tx::Tx<'a>, company_id: &str, delta: i64, limit: i64) -> common::tx::Tx<'a> {
    let guard = if delta > 0 {
        Cond::new("attribute_exists(PK) AND (attribute_not_exists(open_job_count) OR open_job_count < :max)").value(":max", db::n(limit))
    } else {
        Cond::present()
    };
    tx.update(
        "company",
        key(company_id),
        Cond::new("ADD open_job_count :d, version :one")
            .value(":d", db::n(delta))
            .value(":one", db::n(1)),
        Some(guard),
    )
    // A refusal tells a missing company from a full one.
    .returning_item()
}

/// The key of a company's item, for reads batched with other domains' items.
pub fn key(id: &str) -> db::Item {
    db::key(company_pk(id), PROFILE)
}

/// The company of an item read by [`key`].
pub fn from_item(item: db::Item) -> ApiResult<Company> {
    Ok(db::from_item::<CompanyItem>(item)?.value)
}

pub async fn get(app: &App, id: &str) -> ApiResult<Option<Company>> {
    Ok(db::get::<CompanyItem>(app, company_pk(id), PROFILE).await?.map(|i| i.value))
}

/// The caller's role in a company, if any (one GetItem).
pub async fn membership(app: &App, user_id: &str, company_id: &str) -> ApiResult<Option<MemberRole>> {
    Ok(
        db::get::<Membership>(app, auth::account::partition(user_id), company_pk(company_id))
            .await?
            .map(|m| m.role),
    )
}

/// The ids of the companies `user_id` belongs to (a Query of the user's partition).
pub async fn memberships(app: &App, user_id: &str) -> ApiResult<Vec<String>> {
    db::query_all(app, None, auth::account::partition(user_id), Some("COMPANY#"))
        .await?
        .into_iter()
        .map(|i| db::from_item::<Membership>(i).map(|m| m.company_id))
        .collect()
}

/// A company membership as its member's data export shows it.
#[derive(Serialize, ToSchema)]
pub struct MembershipExport {
    pub company_id: String,
    pub role: MemberRole,
    pub joined_at: String,
}

/// The companies `user_id` belongs to, with role and date (their data export).
pub async fn export_memberships(app: &App, user_id: &str) -> ApiResult<Vec<MembershipExport>> {
    db::query_all(app, None, auth::account::partition(user_id), Some("COMPANY#"))
        .await?
        .into_iter()
        .map(|i| {
            db::from_item::<Membership>(i).map(|m| MembershipExport {
                company_id: m.company_id,
                role: m.role,
                joined_at: m.joined_at,
            })
        })
        .collect()
}

/// The company the caller means: `requested` (they must be a member, else 404), or their
/// only company (`None` when they have none; 400 `company_required` when they have several).
pub async fn of_caller(app: &App, user_id: &str, requested: Option<String>) -> ApiResult<Option<String>> {
    let missing = || ApiError::not_found("no such company");
    match requested.filter(|c| !c.is_empty()) {
        Some(c) => {
            let c = ulid::Ulid::from_string(&c).map_err(|_| missing())?.to_string();
            match membership(app, user_id, &c).await? {
                Some(_) => Ok(Some(c)),
                None => Err(missing()),
            }
        }
        None => {
            let mut all = memberships(app, user_id).await?;
            match all.len() {
                0 => Ok(None),
                1 => Ok(Some(all.remove(0))),
                _ => Err(ApiError::bad_request("you belong to several companies: pass company_id").with_code("company_required")),
            }
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("no such company")
}

pub(crate) fn id_param(req: &Request) -> ApiResult<String> {
    common::http::id_param(req, "id", "company")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompany {
    pub name: String,
    pub description: Option<String>,
    /// http(s) URL.
    pub website: Option<String>,
    /// http(s) URL of the logo image.
    pub logo: Option<String>,
    #[serde(default, deserialize_with = "common::values::object_opt")]
    pub location: Option<Location>,
    pub size: Option<CompanySize>,
    pub industry: Option<String>,
}

/// POST /companies
#[utoipa::path(post, path = "/companies", tag = "companies", request_body = CreateCompany, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "created; the caller is its owner", body = Company), (status = 401, body = ErrorBody),
        (status = 403, description = "only employers create companies; `email_unverified` until the address is verified", body = ErrorBody),
        (status = 409, description = "`quota_exceeded`: the companies-per-employer quota (5 unless configured)", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer]).await?;
    if let Some(done) = common::idempotency::replay_if_done(app, &req, &actor.user_id).await? {
        return Ok(done);
    }
    // Employers prove their address before they create companies or post jobs.
    auth::account::require_verified(app, &actor).await?;
    let body: CreateCompany = parse_json(&req)?;
    let mut p = Problems::default();
    let name = p.check("name", rules::name(&body.name));
    let description = p.check("description", rules::description(body.description.as_deref().unwrap_or_default()));
    let website = p.check("website", rules::website(body.website.as_deref().unwrap_or_default()));
    let logo = p.check("logo", rules::website(body.logo.as_deref().unwrap_or_default()));
    let industry = p.check("industry", rules::industry(body.industry.as_deref().unwrap_or_default()));
    let location = match &body.location {
        Some(l) => p.check("location", Location::parse(l)).map(Some),
        None => Some(None),
    };
    p.into_result()?;
    let now = common::time::now_rfc3339();
    let company = Company {
        id: ulid::Ulid::new().to_string(),
        name: name.unwrap_or_default(),
        description: description.flatten(),
        website: website.flatten(),
        logo: logo.flatten(),
        location: location.flatten(),
        size: body.size,
        industry: industry.flatten(),
        created_at: now.clone(),
        updated_at: now.clone(),
        open_job_count: 0,
        version: 1,
    };
    let scope = actor.user_id.clone();
    let work = Box::pin(async move {
        let member = |pk: String, sk: String| Membership {
            pk,
            sk,
            entity: "membership".into(),
            company_id: company.id.clone(),
            user_id: actor.user_id.clone(),
            role: MemberRole::Owner,
            joined_at: now.clone(),
        };
        let event = DomainEvent::CompanyCreated(CompanyChanged { company: company.clone() });
        // The companies-per-employer quota, counted with the creation.
        let quota = app.settings.quotas.companies_per_employer;
        let tx = auth::account::writes_by(app, &actor)
            .update(
                "quota",
                db::key(auth::account::partition(&actor.user_id), "COMPANIES"),
                Cond::add("count", 1),
                Some(Cond::below("count", quota)),
            )
            .put_new("company", &item(&company))
            .put_new("member", &member(company_pk(&company.id), format!("MEMBER#{}", actor.user_id)))
            .put_new(
                "membership",
                &member(auth::account::partition(&actor.user_id), company_pk(&company.id)),
            )
            .emit(Actor::user(&actor.user_id), event);
        match owners::first(tx, &company.id).commit().await {
            Err(TxError::Condition { part: "quota", .. }) => {
                return Err(common::quota::exceeded(
                    "companies_per_employer",
                    quota,
                    format!("an employer creates at most {quota} companies"),
                ))
            }
            other => other?,
        }
        created(&company)
    });
    common::idempotency::run(app, &req, &scope, work).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompany {
    pub name: Option<String>,
    /// For the optional fields, `null` clears them.
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub logo: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable_object")]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<CompanySize>)]
    pub size: Option<Option<CompanySize>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
}

/// PATCH /companies/{id}: changes only the fields sent.
#[utoipa::path(patch, path = "/companies/{id}", tag = "companies", request_body = UpdateCompany, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Company), (status = 401, body = ErrorBody), (status = 403, description = "not the company's owner", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`concurrent_change`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer]).await?;
    let body: UpdateCompany = parse_json(&req)?;
    let id = id_param(&req)?;
    let mut p = Problems::default();
    let name = body.name.as_deref().map(|n| p.check("name", rules::name(n)));
    let text = |p: &mut Problems, field: &str, v: Option<Option<String>>, f: fn(&str) -> Result<Option<String>, &'static str>| {
        v.map(|v| p.check(field, f(v.as_deref().unwrap_or_default())))
    };
    let description = text(&mut p, "description", body.description, rules::description);
    let website = text(&mut p, "website", body.website, rules::website);
    let logo = text(&mut p, "logo", body.logo, rules::website);
    let industry = text(&mut p, "industry", body.industry, rules::industry);
    let location = body.location.map(|l| match l {
        Some(l) => p.check("location", Location::parse(&l)).map(Some),
        None => Some(None),
    });
    p.into_result()?;

    let before = get(app, &id).await?.ok_or_else(not_found)?;
    if membership(app, &actor.user_id, &id).await? != Some(MemberRole::Owner) {
        return Err(ApiError::forbidden("only the company's owner can change it"));
    }
    let mut after = before.clone();
    if let Some(Some(n)) = name {
        after.name = n;
    }
    if let Some(Some(d)) = description {
        after.description = d;
    }
    if let Some(Some(w)) = website {
        after.website = w;
    }
    if let Some(Some(l)) = logo {
        after.logo = l;
    }
    if let Some(Some(i)) = industry {
        after.industry = i;
    }
    if let Some(Some(l)) = location {
        after.location = l;
    }
    if let Some(size) = body.size {
        after.size = size;
    }
    if after == before {
        return ok(&before);
    }
    after.updated_at = common::time::now_rfc3339();
    after.version = before.version + 1;
    let event = DomainEvent::CompanyUpdated(CompanyChanged { company: after.clone() });
    // On the version: job changes move the open-job count (and the version) in between.
    let unchanged = Cond::new("version = :prev").value(":prev", db::n(before.version));
    let tx = auth::account::writes_by(app, &actor)
        .put_if("company", &item(&after), unchanged)
        .emit(Actor::user(&actor.user_id), event);
    match tx.commit().await {
        Err(TxError::Condition { part: "company", .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "the company changed meanwhile; reload and retry",
        )),
        other => {
            other?;
            ok(&after)
        }
    }
}

/// GET /companies/{id}
#[utoipa::path(get, path = "/companies/{id}", tag = "companies", params(("id" = String, Path)),
    responses((status = 200, body = Company), (status = 404, body = ErrorBody)))]
pub async fn read(app: &'static App, req: Request) -> ApiResult<Response> {
    let id = id_param(&req)?;
    ok(&get(app, &id).await?.ok_or_else(not_found)?)
}

#[derive(Serialize, ToSchema)]
pub struct CompanyPage {
    pub items: Vec<Company>,
    pub next_cursor: Option<String>,
}

/// GET /companies: newest first.
#[utoipa::path(get, path = "/companies", tag = "companies",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = CompanyPage), (status = 400, description = "`invalid_cursor`, `invalid_limit`", body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let q = ListQuery {
        index: Some("GSI1"),
        key_name: db::GSI1PK,
        key: INDEX.into(),
        newest_first: true,
    };
    let page: Page<CompanyItem> = query_page(app, &req, "GET /companies", q).await?;
    ok(&Page {
        items: page.items.into_iter().map(|c| c.value).collect(),
        next_cursor: page.next_cursor,
    })
}

common::functions! {
    openapi(tags((name = "companies", description = "Company pages; the creator is owner")));
    http {
        "companies-create" => create: table(&[Get, Put, Update, Delete, ConditionCheck]).indexes(),
        "companies-list" => list: table(&[Query]).indexes(),
        "companies-read" => read: table(&[Get]).indexes(),
        "companies-update" => update: table(&[Get, Put, Update, ConditionCheck]).indexes(),
        "companies-members-list" => members::list: table(&[Get, BatchGet, Query]).indexes(),
        "companies-members-add" => invitations::invite: table(&[Get, Put, Update, ConditionCheck]).indexes(),
        "companies-invitations-list" => invitations::list: table(&[Get, Query]),
        "companies-invitations-accept" => invitations::accept: table(&[Get, Put, Update, Delete, ConditionCheck]),
        "companies-invitations-decline" => invitations::decline: table(&[Get, Delete, ConditionCheck]),
        "companies-members-remove" => members::remove: table(&[Get, Query, Put, Update, Delete, ConditionCheck]).indexes(),
    }
}

/// Every company, every page (search's rebuild).
pub async fn all(app: &App) -> ApiResult<Vec<Company>> {
    db::query_all(app, Some("GSI1"), INDEX, None)
        .await?
        .into_iter()
        .map(|i| db::from_item::<CompanyItem>(i).map(|c| c.value))
        .collect()
}
