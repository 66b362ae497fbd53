//! Invitations: an owner invites an employer by email (POST /companies/{id}/members); the
//! invitee accepts or declines (GET /me/invitations, POST /me/invitations/{id}/accept |
//! decline). Nobody joins a company without consent, and the owner's reply is the same
//! whether or not the address has an account (an invitation is stored either way, under the
//! address, so an account made later finds it). Invitations expire after 7 days.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | invitation | `INVITES#<email>` | `INVITE#<id>` (`expires_at`, TTL a day later) |
//! | a company's pending invitation to the address (one at a time) | `INVITES#<email>` | `INVITE#FROM#<company>` |
//! | invitations a company sent today (quota) | `COMPANY#<company>` | `INVITED#<date>` |
//!
//! The guard of one pending invitation per company and address shares the invitations'
//! sort-key prefix, so export and erasure of the address find it with them.

use common::api_doc::ErrorBody;
use common::db::{self, Keyed};
use common::error::Problems;
use common::events::{Actor, DomainEvent, MemberAdded, MemberInvited};
use common::http::{json, ok, parse_json, require_role, status_only, Request, Response};
use common::token::Role;
use common::tx::{Cond, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{company_pk, id_param, membership, owners, MemberRole, Membership};

/// How long an invitation waits for an answer.
pub const LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// An invitation as the invitee sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    pub company_id: String,
    pub company_name: String,
    /// The role on joining.
    pub role: MemberRole,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    invitation: Invitation,
    email: String,
    invited_by: String,
    expires_at_secs: i64,
    ttl: i64,
}

fn pk(email: &str) -> String {
    format!("INVITES#{email}")
}
fn sk(id: &str) -> String {
    format!("INVITE#{id}")
}
fn guard_sk(company_id: &str) -> String {
    format!("INVITE#FROM#{company_id}")
}

/// The guard of `stored`: this company's one pending invitation to the address.
#[derive(Serialize)]
struct Guard<'a> {
    invitation_id: &'a str,
    expires_at_secs: i64,
    ttl: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// The address of the employer to invite.
    pub email: String,
    /// `member` (the default) or `owner`.
    pub role: Option<MemberRole>,
}

/// The owner's reply: the same for every address.
#[derive(Serialize, ToSchema)]
pub struct Invited {
    pub email: String,
    pub role: MemberRole,
    pub expires_at: String,
}

/// POST /companies/{id}/members: an owner invites an employer by email.
#[utoipa::path(post, path = "/companies/{id}/members", tag = "companies", request_body = Invite, security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, description = "invited (the same reply whether or not the address has an account); the invitee accepts or declines", body = Invited),
        (status = 401, body = ErrorBody), (status = 403, description = "not an owner", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`already_invited`: a pending invitation of this company to the address", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, description = "`quota_exceeded`: invitations per company per day", body = ErrorBody)))]
pub async fn invite(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let scope = me.user_id.clone();
    common::idempotency::once(app, &req, &scope, invite_now(app, me, &req)).await
}

async fn invite_now(app: &'static App, me: common::token::Principal, req: &Request) -> ApiResult<Response> {
    let body: Invite = parse_json(req)?;
    let id = id_param(req)?;
    let mut p = Problems::default();
    let email = p.check("email", auth::rules::Email::parse(&body.email));
    p.into_result()?;
    let email = email.ok_or_else(|| ApiError::invalid_field("email", "is not an email address"))?;
    match membership(app, &me.user_id, &id).await? {
        Some(MemberRole::Owner) => {}
        Some(MemberRole::Member) => return Err(ApiError::forbidden("only the company's owners invite members")),
        None => return Err(ApiError::not_found("no such company")),
    }
    let company = crate::get(app, &id).await?.ok_or_else(|| ApiError::not_found("no such company"))?;
    let role = body.role.unwrap_or(MemberRole::Member);
    let now = common::time::now_secs();
    let invitation = Invitation {
        id: ulid::Ulid::new().to_string(),
        company_id: id.clone(),
        company_name: company.name.clone(),
        role,
        created_at: common::time::rfc3339(now),
        expires_at: common::time::rfc3339(now + LIFETIME_SECS),
    };
    let stored = Stored {
        invitation: invitation.clone(),
        email: email.as_str().to_string(),
        invited_by: me.user_id.clone(),
        expires_at_secs: now + LIFETIME_SECS,
        ttl: now + LIFETIME_SECS + 86_400,
    };
    let event = DomainEvent::CompanyMemberInvited(MemberInvited {
        invitation_id: invitation.id.clone(),
        company_id: id.clone(),
        company_name: company.name,
        email: email.as_str().to_string(),
        role,
    });
    let guard = Guard {
        invitation_id: &invitation.id,
        expires_at_secs: stored.expires_at_secs,
        ttl: stored.ttl,
    };
    let guard = Keyed::new(pk(email.as_str()), guard_sk(&id), "invitation_guard", guard);
    // Expiry is checked here, not left to TTL (which is late).
    let none_pending = Cond::new("attribute_not_exists(PK) OR expires_at_secs <= :now").value(":now", db::n(now));
    let daily = common::quota::Daily::new(
        "invitations_per_day",
        app.settings.quotas.invitations_per_day,
        company_pk(&id),
        "INVITED",
    );
    let tx = daily
        .count(auth::account::writes_by(app, &me), "daily")
        .put_item("pending", db::to_item(&guard)?, Some(none_pending))
        .put_new(
            "invitation",
            &Keyed::new(pk(email.as_str()), sk(&invitation.id), "invitation", stored),
        )
        .emit(Actor::user(&me.user_id), event);
    match tx.commit().await {
        Err(TxError::Condition { part: "daily", .. }) => return Err(daily.exceeded("invitations")),
        Err(TxError::Condition { part: "pending", .. }) => {
            return Err(ApiError::conflict(
                "already_invited",
                "this address has a pending invitation to this company; it can be sent again once answered or expired",
            ))
        }
        other => other?,
    }
    json(
        StatusCode::ACCEPTED,
        &Invited {
            email: email.as_str().to_string(),
            role,
            expires_at: invitation.expires_at,
        },
    )
}

#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<Invitation>,
}

/// The caller's account (invitations are kept under its address).
async fn me_summary(app: &App, user_id: &str) -> ApiResult<auth::account::Summary> {
    auth::account::summary(app, user_id).await?.ok_or_else(auth::account::gone)
}

/// The caller's address.
async fn my_email(app: &App, user_id: &str) -> ApiResult<String> {
    Ok(me_summary(app, user_id).await?.email)
}

async fn pending(app: &App, email: &str) -> ApiResult<Vec<Stored>> {
    let now = common::time::now_secs();
    Ok(db::query_all(app, None, pk(email), Some("INVITE#"))
        .await?
        .into_iter()
        .filter_map(|i| db::from_item::<Keyed<Stored>>(i).ok())
        .map(|k| k.value)
        .filter(|s| s.expires_at_secs > now)
        .collect())
}

/// GET /me/invitations
#[utoipa::path(get, path = "/me/invitations", tag = "companies", security(("bearer" = [])),
    responses((status = 200, description = "pending invitations to the caller's address, newest first", body = InvitationList), (status = 401, body = ErrorBody),
        (status = 403, description = "only employers are invited to companies", body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let email = my_email(app, &me.user_id).await?;
    let mut items: Vec<Invitation> = pending(app, &email).await?.into_iter().map(|s| s.invitation).collect();
    items.sort_by(|a, b| b.id.cmp(&a.id));
    ok(&InvitationList { items })
}

async fn find(app: &App, email: &str, id: &str) -> ApiResult<Stored> {
    let now = common::time::now_secs();
    db::get::<Keyed<Stored>>(app, pk(email), sk(id))
        .await?
        .map(|k| k.value)
        .filter(|s| s.expires_at_secs > now)
        .ok_or_else(|| ApiError::not_found("no such invitation (it may have expired)"))
}

/// POST /me/invitations/{id}/accept: the caller joins the company.
#[utoipa::path(post, path = "/me/invitations/{id}/accept", tag = "companies", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "joined", body = crate::members::Member), (status = 401, body = ErrorBody),
        (status = 403, description = "only employers join companies", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_member`", body = ErrorBody)))]
pub async fn accept(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let id = common::http::id_param(&req, "id", "invitation")?;
    let account = me_summary(app, &me.user_id).await?;
    let email = account.email;
    let inv = find(app, &email, &id).await?;
    let company_id = inv.invitation.company_id.clone();
    let role = inv.invitation.role;
    let joined_at = common::time::now_rfc3339();
    let side = |pk: String, sk: String| Membership {
        pk,
        sk,
        entity: "membership".into(),
        company_id: company_id.clone(),
        user_id: me.user_id.clone(),
        role,
        joined_at: joined_at.clone(),
    };
    let live = Cond::new("expires_at_secs > :now").value(":now", db::n(common::time::now_secs()));
    let event = DomainEvent::CompanyMemberAdded(MemberAdded {
        company_id: company_id.clone(),
        user_id: me.user_id.clone(),
        role,
    });
    let mut tx = auth::account::writes_by(app, &me)
        .delete("invitation", db::key(pk(&email), sk(&id)), Some(live))
        .delete("guard", db::key(pk(&email), guard_sk(&company_id)), None)
        .put_new("member", &side(company_pk(&company_id), format!("MEMBER#{}", me.user_id)))
        .put_new("membership", &side(auth::account::partition(&me.user_id), company_pk(&company_id)))
        .emit(Actor::user(&me.user_id), event);
    if role == MemberRole::Owner {
        tx = owners::count(tx, &company_id, 1);
    }
    match tx.commit().await {
        Err(TxError::Condition { part: "invitation", .. }) => Err(ApiError::not_found("no such invitation (it may have expired)")),
        Err(TxError::Condition {
            part: "member" | "membership",
            ..
        }) => Err(ApiError::conflict("already_member", "you are a member of this company already")),
        other => {
            other?;
            ok(&crate::members::Member {
                user_id: me.user_id.clone(),
                full_name: account.full_name,
                role,
                joined_at,
            })
        }
    }
}

/// POST /me/invitations/{id}/decline
#[utoipa::path(post, path = "/me/invitations/{id}/decline", tag = "companies", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "declined"), (status = 401, body = ErrorBody),
        (status = 403, description = "only employers are invited to companies", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn decline(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer]).await?;
    let id = common::http::id_param(&req, "id", "invitation")?;
    let email = my_email(app, &me.user_id).await?;
    let inv = find(app, &email, &id).await?;
    auth::account::writes_by(app, &me)
        .delete("invitation", db::key(pk(&email), sk(&id)), Some(Cond::present()))
        .delete("guard", db::key(pk(&email), guard_sk(&inv.invitation.company_id)), None)
        .commit()
        .await?;
    status_only(StatusCode::NO_CONTENT)
}

/// Erasure and export: the invitations waiting for `email`.
pub async fn waiting_for(app: &App, email: &str) -> ApiResult<(Vec<Invitation>, Vec<db::Item>)> {
    let all = db::query_all(app, None, pk(email), Some("INVITE#")).await?;
    let keys = all.iter().map(db::key_of).collect();
    let items = all
        .into_iter()
        .filter_map(|i| db::from_item::<Keyed<Stored>>(i).ok())
        .map(|k| k.value.invitation)
        .collect();
    Ok((items, keys))
}
