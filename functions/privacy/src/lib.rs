//! Privacy (API.md, "Me, profiles, candidates" and "Admin"): GET /me/export gives a user
//! everything stored about them; DELETE /me and DELETE /admin/users/{id} erase an account.
//!
//! Where a user's personal data lives, and what erasure does to it:
//!
//! | data | where | erasure |
//! |---|---|---|
//! | account, profile, sessions, reset code, memberships, file records | partition `USER#<id>` | deleted |
//! | email claim | `EMAIL#<email>` | deleted |
//! | sign-in failures | `LOGINFAIL#<hash>` (keyed hashes of address and network) | nothing personal; gone after their 15-minute window (TTL) |
//! | membership (company side) | `COMPANY#<c>/MEMBER#<id>` | deleted |
//! | reports filed | `JOB#<j>/REPORT#<id>` (GSI2 `REPORTSBY#<id>`) | deleted (the job's report counts stay) |
//! | applications with history, interviews, guards | `APP#<a>/*` (GSI2 `USERAPPS#<id>`), `JOB#<j>/APPLICANT#<id>` | deleted, with the resume copies sent (the jobs' applicant counts stay) |
//! | stored responses of `Idempotency-Key` requests | `IDEMP#...` (GSI2 `IDEMPBY#<id>`) | deleted |
//! | admin actions on the account | `AUDIT#user#<id>` | kept, `before`/`after` replaced by a redaction marker |
//! | resume and avatar files | S3 `files/*/<id>/`, `incoming/*/<id>/` | deleted |
//! | domain events naming the user | outbox items | deleted by the relay once published (TTL otherwise) |
//!
//! Jobs and companies an employer created stay: they belong to the company. Steps run so
//! that a failure can be retried: the account itself goes last, in one transaction with its
//! email claim and the `user.deleted` event.

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use common::api_doc::ErrorBody;
use common::audit::AuditEntry;
use common::db::{self, Item};
use common::events::{Actor, DomainEvent, UserDeleted};
use common::http::{authenticate, ok, status_only, Request, Response};
use common::token::{Principal, Role};
use common::tx::Tx;
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// Deletes items by key, 25 per BatchWriteItem, retrying unprocessed ones.
async fn delete_keys(app: &App, keys: Vec<Item>) -> ApiResult<()> {
    for chunk in keys.chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|k| {
                DeleteRequest::builder()
                    .set_key(Some(k.clone()))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(db::internal)
            })
            .collect::<ApiResult<_>>()?;
        for attempt in 0..8 {
            let out = app
                .dynamo()
                .batch_write_item()
                .request_items(app.table(), requests.clone())
                .send()
                .await?;
            requests = out.unprocessed_items.and_then(|mut u| u.remove(app.table())).unwrap_or_default();
            if requests.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        if !requests.is_empty() {
            return Err(ApiError::internal("batch delete left unprocessed items"));
        }
    }
    Ok(())
}

fn str_of<'a>(item: &'a Item, k: &str) -> &'a str {
    db::get_s(item, k).unwrap_or_default()
}

/// Erases an account (see the module docs). `by` is the admin doing it, `None` for the user
/// themself. Returns false when there is no such account.
pub async fn erase(app: &App, user_id: &str, by: Option<&Principal>) -> ApiResult<bool> {
    let Some(account) = auth::store::get_account(app, user_id).await? else {
        return Ok(false);
    };
    files::delete_all(app, user_id).await?;

    // The user's partition (all but the account, which goes last) and the company side of
    // each membership.
    let mine = db::query_all(app, None, auth::store::user_pk(user_id), None).await?;
    let mut doomed: Vec<Item> = Vec::new();
    for item in &mine {
        let sk = str_of(item, db::SK);
        if sk == auth::store::ACCOUNT_SK {
            continue;
        }
        if let Some(company) = sk.strip_prefix("COMPANY#") {
            if str_of(item, "role") == "owner" {
                // An owner leaves with the owner count, in one transaction (retry-safe).
                companies::owners::erase_owner(app, company, user_id).await?;
                continue;
            }
            doomed.push(db::key(format!("COMPANY#{company}"), format!("MEMBER#{user_id}")));
        }
        doomed.push(db::key_of(item));
    }
    doomed.extend(applications::erase_seeker(app, user_id).await?);
    doomed.extend(notifications::devices::erase(app, user_id).await?);
    doomed.extend(notifications::live::erase(app, user_id).await?);
    doomed.extend(companies::invitations::waiting_for(app, &account.email).await?.1);
    for index_key in [jobs::moderation::reports_by(user_id), common::idempotency::owner_index(user_id)] {
        doomed.extend(db::query_all(app, Some("GSI2"), index_key, None).await?.iter().map(db::key_of));
    }
    delete_keys(app, doomed).await?;

    // The audit trail of admin actions on the account stays, without the personal data.
    let redacted = AttributeValue::M([("erased".to_string(), AttributeValue::Bool(true))].into());
    for entry in db::query_all(app, None, format!("AUDIT#user#{user_id}"), None).await? {
        app.dynamo()
            .update_item()
            .table_name(app.table())
            .set_key(Some(db::key_of(&entry)))
            .update_expression("SET #b = :r, #a = :r")
            .expression_attribute_names("#b", "before")
            .expression_attribute_names("#a", "after")
            .expression_attribute_values(":r", redacted.clone())
            .send()
            .await?;
    }

    let actor = match by {
        Some(admin) => Actor::User { id: admin.user_id.clone() },
        None => Actor::User { id: user_id.to_string() },
    };
    let event = DomainEvent::UserDeleted(UserDeleted {
        user_id: user_id.to_string(),
        role: account.role,
        by_admin: by.is_some(),
    });
    // The account goes last, with its email claim: an admin's only if that admin still is one.
    let mut tx = match by {
        Some(admin) => auth::account::writes_by(app, admin),
        None => Tx::new(app),
    }
    .delete("account", auth::account::key(user_id), None)
    .delete("email", db::key(auth::store::email_pk(&account.email), auth::store::EMAIL_SK), None)
    .emit(actor, event);
    if let Some(admin) = by {
        let gone = serde_json::json!({"user_id": user_id, "role": account.role});
        tx = tx.audit(&AuditEntry::new(admin, "user.erased", "user", user_id, Some(&gone), None::<&()>));
    }
    tx.commit().await?;
    common::session::forget(user_id);
    Ok(true)
}

/// DELETE /me: erases the caller's account and personal data everywhere.
#[utoipa::path(delete, path = "/me", tag = "privacy", security(("bearer" = [])),
    responses((status = 204, description = "erased; the tokens stop working"), (status = 401, body = ErrorBody)))]
pub async fn erase_me(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    // A suspended or demoted account's token erases nothing (the session gate refused it;
    // admins erase on request).
    if !erase(app, &me.user_id, None).await? {
        return Err(ApiError::unauthorized("this account no longer exists").with_code("session_revoked"));
    }
    status_only(StatusCode::NO_CONTENT)
}

/// DELETE /admin/users/{id}: an admin erases an account (audited).
#[utoipa::path(delete, path = "/admin/users/{id}", tag = "privacy", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "erased"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`cannot_erase_self`: use DELETE /me", body = ErrorBody)))]
pub async fn erase_user(app: &'static App, req: Request) -> ApiResult<Response> {
    let admin = auth::account::require_admin(app, &req).await?;
    let id = common::http::id_param(&req, "id", "user")?;
    let missing = || ApiError::not_found("no such user");
    let id = ulid::Ulid::from_string(&id).map_err(|_| missing())?.to_string();
    if id == admin.user_id {
        return Err(ApiError::conflict("cannot_erase_self", "erase your own account with DELETE /me"));
    }
    if !erase(app, &id, Some(&admin)).await? {
        return Err(missing());
    }
    status_only(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ExportedAccount {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub full_name: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedSession {
    pub session_id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub remember_me: bool,
    pub revoked: bool,
}

/// Everything stored about the caller.
#[derive(Serialize, ToSchema)]
pub struct Export {
    pub exported_at: String,
    pub account: ExportedAccount,
    pub profile: profiles::MyProfile,
    pub sessions: Vec<ExportedSession>,
    /// Companies the caller belongs to, with the role.
    pub companies: Vec<companies::MembershipExport>,
    /// A download URL of the resume (5 minutes), if there is one.
    pub resume_download_url: Option<String>,
    /// Reports of jobs the caller filed.
    pub reports: Vec<jobs::moderation::Report>,
    /// Admin actions on the account.
    pub audit: Vec<AuditEntry>,
    /// Applications sent, each with its history and interviews (as the applicant sees them).
    pub applications: Vec<applications::SeekerExport>,
    /// Saved job searches with their alert frequency.
    pub saved_searches: Vec<common::vocab::SavedSearch>,
    /// In-app notifications of the last 90 days.
    pub notifications: Vec<notifications::inbox::Notification>,
    /// Notification preferences (the defaults until chosen).
    pub notification_preferences: notifications::preferences::Preferences,
    /// Push devices (tokens masked).
    pub devices: Vec<notifications::devices::ExportedDevice>,
    /// Open live-notification connections (WebSocket).
    pub live_connections: Vec<notifications::live::ExportedConnection>,
    /// Invitations to join companies waiting for the account's address.
    pub invitations: Vec<companies::invitations::Invitation>,
}

fn exported_session(item: Item) -> ApiResult<ExportedSession> {
    let sess: auth::store::Session = db::from_item(item)?;
    Ok(ExportedSession {
        session_id: sess.session_id,
        created_at: sess.created_at,
        last_used_at: sess.last_used_at,
        expires_at: common::time::rfc3339(sess.expires_at),
        remember_me: sess.remember_me,
        revoked: sess.revoked,
    })
}

fn exported_account(account: auth::store::Account) -> ExportedAccount {
    ExportedAccount {
        id: account.id,
        email: account.email,
        role: account.role,
        full_name: account.full_name,
        status: serde_json::to_value(account.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        created_at: account.created_at,
        updated_at: account.updated_at,
    }
}

/// GET /me/export
#[utoipa::path(get, path = "/me/export", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = Export), (status = 401, body = ErrorBody)))]
pub async fn export(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let gone = || ApiError::unauthorized("this account no longer exists").with_code("session_revoked");
    let uid = me.user_id.as_str();
    let (account, profile) = futures::try_join!(auth::store::get_account(app, uid), profiles::export(app, uid))?;
    let account = account.ok_or_else(gone)?;
    let (profile, resume) = profile.ok_or_else(gone)?;
    // Everything else is independent: read at once.
    let (
        partition,
        companies,
        reports,
        audit,
        applications,
        saved_searches,
        notifications,
        notification_preferences,
        devices,
        live_connections,
        invitations,
    ) = futures::try_join!(
        db::query_all(app, None, auth::store::user_pk(uid), Some("SESSION#")),
        companies::export_memberships(app, uid),
        jobs::moderation::reports_of(app, uid),
        db::query_all(app, None, format!("AUDIT#user#{uid}"), None),
        applications::export_seeker(app, uid),
        search::saved::all_of(app, uid),
        notifications::inbox::export(app, uid),
        notifications::preferences::of(app, uid),
        notifications::devices::export(app, uid),
        notifications::live::export(app, uid),
        companies::invitations::waiting_for(app, &account.email),
    )?;
    let sessions = partition.into_iter().map(exported_session).collect::<ApiResult<Vec<_>>>()?;
    let audit = audit.into_iter().map(db::from_item::<AuditEntry>).collect::<ApiResult<Vec<_>>>()?;
    let resume_download_url = match &resume {
        Some(f) => Some(
            files::download_url(app, &f.key, &f.content_type, "resume", files::DOWNLOAD_URL_SECS)
                .await?
                .0,
        ),
        None => None,
    };
    ok(&Export {
        exported_at: common::time::now_rfc3339(),
        account: exported_account(account),
        profile,
        sessions,
        companies,
        resume_download_url,
        reports,
        audit,
        applications,
        saved_searches,
        notifications,
        notification_preferences,
        devices,
        live_connections,
        invitations: invitations.0,
    })
}

common::functions! {
    openapi(tags((name = "privacy", description = "Data export and account erasure")));
    http {
        "privacy-export" => export: table(&[Get, Query]).indexes().field_keys().uploads(&[(&[GetObject], "files/*")]).timeout(60),
        "privacy-erase-me" => erase_me: table(&[Get, Query, Put, Update, Delete, ConditionCheck, BatchWrite]).indexes().uploads(&[(&[DeleteObject], "*")]).uploads_list().push(&[DeleteEndpoint]).live().timeout(60),
        "privacy-erase-user" => erase_user: table(&[Get, Query, Put, Update, Delete, ConditionCheck, BatchWrite]).indexes().uploads(&[(&[DeleteObject], "*")]).uploads_list().push(&[DeleteEndpoint]).live().timeout(60),
    }
}
