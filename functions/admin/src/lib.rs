//! Administration (API.md, "Admin"): the user list, suspending, reinstating and changing
//! roles, and reading the audit log. Every change lands in the audit log with actor, time,
//! entity and before/after, in the same transaction as the change.

use auth::store::{Account, AccountStatus};
use common::api_doc::ErrorBody;
use common::audit::AuditEntry;
use common::cursor::{query_page, ListQuery, Page};
use common::db::{self, s};
use common::events::{AccountChanged, Actor, DomainEvent};
use common::http::{ok, parse_json, query_param, Request, Response};
use common::token::Role;
use common::tx::{Cond, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account as admins see it (never the password hash).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AdminUser {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub full_name: String,
    pub status: AccountStatus,
    pub created_at: String,
    pub updated_at: String,
}

fn view(a: &Account) -> AdminUser {
    AdminUser {
        id: a.id.clone(),
        email: a.email.clone(),
        role: a.role,
        full_name: a.full_name.clone(),
        status: a.status,
        created_at: a.created_at.clone(),
        updated_at: a.updated_at.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminUserPage {
    pub items: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    match raw {
        "seeker" => Ok(Role::Seeker),
        "employer" => Ok(Role::Employer),
        "admin" => Ok(Role::Admin),
        _ => Err(ApiError::bad_request("role must be seeker, employer or admin").with_code("invalid_filter")),
    }
}

/// GET /admin/users
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])),
    params(("role" = Option<String>, Query, description = "seeker, employer or admin"), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "newest first", body = AdminUserPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = auth::account::require_admin(app, &req).await?;
    let role = query_param(&req, "role")
        .filter(|r| !r.is_empty())
        .map(|r| parse_role(&r))
        .transpose()?;
    let context = format!("GET /admin/users?role={}", role.map_or("", |r| r.as_str()));
    let q = match role {
        Some(r) => ListQuery {
            index: Some("GSI1"),
            key_name: db::GSI1PK,
            key: format!("USERS#{}", r.as_str()),
            newest_first: true,
        },
        None => ListQuery {
            index: Some("GSI2"),
            key_name: db::GSI2PK,
            key: "USERS".into(),
            newest_first: true,
        },
    };
    let page: Page<Account> = query_page(app, &req, &context, q).await?;
    // Reading the user list is audited (private data).
    let asked = serde_json::json!({"role": role.map(|r| r.as_str()), "cursor": query_param(&req, "cursor"), "returned": page.items.len()});
    common::audit::admin_read(app, &me, "users", "list", asked).await?;
    ok(&Page {
        items: page.items.iter().map(view).collect(),
        next_cursor: page.next_cursor,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// `suspended` blocks sign-in and ends every session; `active` reinstates.
    pub status: Option<AccountStatus>,
    /// A new role takes effect with the user's next sign-in (sessions are ended).
    pub role: Option<Role>,
    /// Why, for the audit log.
    pub reason: Option<String>,
}

/// Characters of an admin's `reason` for a change to a user (kept in the audit log).
pub const REASON_MAX: usize = 500;
/// An audit filter's value (`entity_type`, `entity_id`, `actor_id`), at most (characters).
pub const AUDIT_FILTER_MAX: usize = 128;

/// PATCH /admin/users/{id}
#[utoipa::path(patch, path = "/admin/users/{id}", tag = "admin", request_body = UpdateUser, security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AdminUser), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`cannot_change_self`, `concurrent_change`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = auth::account::require_admin(app, &req).await?;
    let body: UpdateUser = parse_json(&req)?;
    if body.status.is_none() && body.role.is_none() {
        return Err(ApiError::invalid_field("status", "send status, role or both"));
    }
    let reason = body
        .reason
        .as_deref()
        .map(|r| common::values::optional_text(r, REASON_MAX))
        .transpose()
        .map_err(|e| ApiError::invalid_field("reason", e))?
        .flatten();
    let id = common::http::id_param(&req, "id", "user")?;
    if id == actor.user_id {
        return Err(ApiError::conflict(
            "cannot_change_self",
            "admins cannot suspend themselves or change their own role",
        ));
    }
    let before = auth::store::get_account(app, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let mut after = before.clone();
    let mut events = Vec::new();
    if let Some(st) = body.status.filter(|s| *s != before.status) {
        after.status = st;
        events.push(if st == AccountStatus::Suspended {
            DomainEvent::UserSuspended as fn(AccountChanged) -> DomainEvent
        } else {
            DomainEvent::UserReinstated
        });
    }
    if let Some(role) = body.role.filter(|r| *r != before.role) {
        after.role = role;
        after.gsi1pk = format!("USERS#{}", role.as_str());
        events.push(DomainEvent::UserRoleChanged);
    }
    if events.is_empty() {
        return ok(&view(&before));
    }
    // Suspension and role changes end every session, so no refresh carries the old state on.
    after.session_version += 1;
    after.updated_at = common::time::now_rfc3339();
    let unchanged = Cond::new("updated_at = :prev").value(":prev", s(&before.updated_at));
    let mut tx = auth::account::writes_by(app, &actor).put_if("user", &after, unchanged);
    let mut kinds = Vec::new();
    for event in &events {
        let event = event(AccountChanged {
            user_id: after.id.clone(),
            email: after.email.clone(),
            role: after.role,
            status: after.status,
            reason: reason.clone(),
        });
        kinds.push(event.kind());
        tx = tx.emit(Actor::user(&actor.user_id), event);
    }
    let mut audit = AuditEntry::new(
        &actor,
        &kinds.join(","),
        "user",
        &after.id,
        Some(&view(&before)),
        Some(&view(&after)),
    );
    if let (Some(r), Some(a)) = (&reason, audit.after.as_mut()) {
        a["reason"] = serde_json::Value::String(r.clone());
    }
    match tx.audit(&audit).commit().await {
        Err(TxError::Condition { part: "user", .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "the user changed meanwhile; reload and retry",
        )),
        other => {
            other?;
            common::session::forget(&after.id);
            ok(&view(&after))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// GET /admin/audit: by entity (`entity_type` and `entity_id`) or by actor (`actor_id`).
#[utoipa::path(get, path = "/admin/audit", tag = "admin", security(("bearer" = [])),
    params(("entity_type" = Option<String>, Query, description = "e.g. user, category, job"), ("entity_id" = Option<String>, Query),
        ("actor_id" = Option<String>, Query), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "newest first", body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(app: &'static App, req: Request) -> ApiResult<Response> {
    auth::account::require_admin(app, &req).await?;
    // Empty is absent; a value is up to 128 printable ASCII characters, no `#` (it is part of
    // a key).
    let mut bad = None;
    let mut nonempty = |k: &'static str| {
        let v = query_param(&req, k).filter(|v| !v.is_empty())?;
        let fits = v.len() <= AUDIT_FILTER_MAX && v.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'#');
        if !fits {
            bad = Some(k);
        }
        fits.then_some(v)
    };
    let given = (nonempty("entity_type"), nonempty("entity_id"), nonempty("actor_id"));
    if let Some(k) = bad {
        return Err(
            ApiError::bad_request(format!("{k} is at most {AUDIT_FILTER_MAX} printable ASCII characters, without #"))
                .with_code("invalid_filter"),
        );
    }
    let q = match given {
        (Some(t), Some(i), None) => ListQuery {
            index: None,
            key_name: db::PK,
            key: format!("AUDIT#{t}#{i}"),
            newest_first: true,
        },
        (None, None, Some(a)) => ListQuery {
            index: Some("GSI1"),
            key_name: db::GSI1PK,
            key: format!("AUDITBY#{a}"),
            newest_first: true,
        },
        _ => return Err(ApiError::bad_request("filter by entity_type and entity_id, or by actor_id").with_code("invalid_filter")),
    };
    let context = format!("GET /admin/audit {}", q.key);
    let page: Page<AuditEntry> = query_page(app, &req, &context, q).await?;
    ok(&page)
}

common::functions! {
    openapi(tags((name = "admin", description = "Users and the audit log (admins only)")));
    http {
        "admin-users-list" => list_users: table(&[Get, Query, Put]).indexes(),
        "admin-users-update" => update_user: table(&[Get, Put, Update, ConditionCheck]).indexes(),
        "admin-audit" => audit: table(&[Query]).indexes(),
    }
}
