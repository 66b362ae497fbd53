//! Company members: owners add employers by email and remove them; members see each other
//! and may leave. A company keeps at least one owner.

use common::api_doc::ErrorBody;
use common::db;
use common::error::Problems;
use common::events::{Actor, DomainEvent, MemberAdded, MemberRemoved};
use common::http::{created, ok, parse_json, require_role, status_only, Request, Response};
use common::token::Role;
use common::tx::{Cond, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{company_pk, id_param, membership, MemberRole, Membership};

/// A member as colleagues see them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Member {
    pub user_id: String,
    pub full_name: String,
    pub role: MemberRole,
    pub joined_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<Member>,
}

async fn members_of(app: &App, company_id: &str) -> ApiResult<Vec<Membership>> {
    db::query_all(app, None, company_pk(company_id), Some("MEMBER#"))
        .await?
        .into_iter()
        .map(db::from_item)
        .collect()
}

/// GET /companies/{id}/members
#[utoipa::path(get, path = "/companies/{id}/members", tag = "companies", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MemberList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such company, or the caller is not a member", body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer])?;
    let id = id_param(&req)?;
    if membership(app, &me.user_id, &id).await?.is_none() {
        return Err(ApiError::not_found("no such company"));
    }
    let members = members_of(app, &id).await?;
    let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
    let accounts = auth::account::summaries(app, &ids).await?;
    let mut items: Vec<Member> = members
        .into_iter()
        .map(|m| Member {
            full_name: accounts
                .iter()
                .find(|a| a.id == m.user_id)
                .map(|a| a.full_name.clone())
                .unwrap_or_default(),
            user_id: m.user_id,
            role: m.role,
            joined_at: m.joined_at,
        })
        .collect();
    items.sort_by(|a, b| a.joined_at.cmp(&b.joined_at));
    ok(&MemberList { items })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// The email of an existing employer account.
    pub email: String,
    /// `member` (the default) or `owner`.
    pub role: Option<MemberRole>,
}

/// POST /companies/{id}/members: an owner adds an employer by email.
#[utoipa::path(post, path = "/companies/{id}/members", tag = "companies", request_body = AddMember, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 201, body = Member), (status = 401, body = ErrorBody), (status = 403, description = "not an owner", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`already_member`", body = ErrorBody),
        (status = 422, description = "no active employer account with this email", body = ErrorBody)))]
pub async fn add(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer])?;
    let body: AddMember = parse_json(&req)?;
    let id = id_param(&req)?;
    let mut p = Problems::default();
    let email = p.check("email", auth::rules::Email::parse(&body.email));
    p.into_result()?;
    match membership(app, &me.user_id, &id).await? {
        Some(MemberRole::Owner) => {}
        Some(MemberRole::Member) => return Err(ApiError::forbidden("only the company's owners add members")),
        None => return Err(ApiError::not_found("no such company")),
    }
    let no_employer = || ApiError::invalid_field("email", "there is no active employer account with this email");
    let email = email.ok_or_else(no_employer)?;
    let claim = db::get::<auth::store::EmailClaim>(app, auth::store::email_pk(email.as_str()), auth::store::EMAIL_SK)
        .await?
        .ok_or_else(no_employer)?;
    let account = auth::account::summary(app, &claim.user_id)
        .await?
        .filter(|a| a.role == Role::Employer && a.is_active())
        .ok_or_else(no_employer)?;
    let role = body.role.unwrap_or(MemberRole::Member);
    let joined_at = common::time::now_rfc3339();
    let side = |pk: String, sk: String| Membership {
        pk,
        sk,
        entity: "membership".into(),
        company_id: id.clone(),
        user_id: account.id.clone(),
        role,
        joined_at: joined_at.clone(),
    };
    let event = DomainEvent::CompanyMemberAdded(MemberAdded {
        company_id: id.clone(),
        user_id: account.id.clone(),
        role,
    });
    let tx = auth::account::writes_by(app, &me)
        .put_new("member", &side(company_pk(&id), format!("MEMBER#{}", account.id)))
        .put_new("membership", &side(auth::account::partition(&account.id), company_pk(&id)))
        .emit(Actor::user(&me.user_id), event);
    match tx.commit().await {
        Err(TxError::Condition {
            part: "member" | "membership",
            ..
        }) => Err(ApiError::conflict("already_member", "this employer is a member already")),
        other => {
            other?;
            created(&Member {
                user_id: account.id,
                full_name: account.full_name,
                role,
                joined_at,
            })
        }
    }
}

/// DELETE /companies/{id}/members/{user_id}: an owner removes a member, or a member leaves.
#[utoipa::path(delete, path = "/companies/{id}/members/{user_id}", tag = "companies", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`last_owner`: a company keeps at least one owner", body = ErrorBody)))]
pub async fn remove(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer])?;
    let id = id_param(&req)?;
    let user_id = common::http::id_param(&req, "user_id", "member")?;
    let missing = || ApiError::not_found("no such member");
    let mine = membership(app, &me.user_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such company"))?;
    if user_id != me.user_id && mine != MemberRole::Owner {
        return Err(ApiError::forbidden("only the company's owners remove other members"));
    }
    let members = members_of(app, &id).await?;
    let target = members.iter().find(|m| m.user_id == user_id).ok_or_else(missing)?;
    if target.role == MemberRole::Owner && members.iter().filter(|m| m.role == MemberRole::Owner).count() == 1 {
        return Err(ApiError::conflict("last_owner", "a company keeps at least one owner"));
    }
    let event = DomainEvent::CompanyMemberRemoved(MemberRemoved {
        company_id: id.clone(),
        user_id: user_id.clone(),
    });
    let tx = auth::account::writes_by(app, &me)
        .delete(
            "member",
            db::key(company_pk(&id), format!("MEMBER#{user_id}")),
            Some(Cond::present()),
        )
        .delete(
            "membership",
            db::key(auth::account::partition(&user_id), company_pk(&id)),
            Some(Cond::present()),
        )
        .emit(Actor::user(&me.user_id), event);
    match tx.commit().await {
        Err(TxError::Condition { .. }) => Err(missing()),
        other => {
            other?;
            status_only(StatusCode::NO_CONTENT)
        }
    }
}

/// The ids of a company's members (who is told about its applicants and jobs).
pub async fn member_ids(app: &App, company_id: &str) -> ApiResult<Vec<String>> {
    Ok(members_of(app, company_id).await?.into_iter().map(|m| m.user_id).collect())
}
