//! Company members: members see each other, owners remove them, members may leave. A
//! company keeps at least one owner ([`owners`](crate::owners)). Joining is by invitation
//! ([`invitations`](crate::invitations)).

use common::api_doc::ErrorBody;
use common::db;
use common::events::{Actor, DomainEvent, MemberRemoved};
use common::http::{ok, require_role, status_only, Request, Response};
use common::token::Role;
use common::tx::{Cond, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::Serialize;
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
    let me = require_role(app, &req, &[Role::Employer]).await?;
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

/// DELETE /companies/{id}/members/{user_id}: an owner removes a member, or a member leaves.
#[utoipa::path(delete, path = "/companies/{id}/members/{user_id}", tag = "companies", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`last_owner`: a company keeps at least one owner", body = ErrorBody)))]
pub async fn remove(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let id = id_param(&req)?;
    let user_id = common::http::id_param(&req, "user_id", "member")?;
    let missing = || ApiError::not_found("no such member");
    let mine = membership(app, &me.user_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such company"))?;
    if user_id != me.user_id && mine != MemberRole::Owner {
        return Err(ApiError::forbidden("only the company's owners remove other members"));
    }
    let target = db::get::<Membership>(app, company_pk(&id), format!("MEMBER#{user_id}"))
        .await?
        .ok_or_else(missing)?;
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
    // An owner leaves only while another remains, checked at commit time.
    let tx = if target.role == MemberRole::Owner {
        crate::owners::count(tx, &id, -1)
    } else {
        tx
    };
    match tx.commit().await {
        Err(TxError::Condition { part: "owners", .. }) => Err(ApiError::conflict("last_owner", "a company keeps at least one owner")),
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
