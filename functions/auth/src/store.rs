//! Storage of accounts in the single table.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | account | `USER#<id>` | `ACCOUNT` (GSI1: `USERS#<role>` / `<created_at>#<id>`) |
//! | email claim | `EMAIL#<email>` | `EMAIL` |
//! | sign-in failures of an address from a network (keyed hashes; 15-minute window) | `LOGINFAIL#<hash>` | `SOURCE#<hash>` |
//! | session (refresh-token family) | `USER#<id>` | `SESSION#<sid>` |
//! | password reset code | `USER#<id>` | `PASSWORD_RESET` |

use common::db::{self, n, s};
use common::events::{DomainEvent, UserRegistered};
use common::tx::{Tx, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};

use common::token::Role;
pub use common::vocab::AccountStatus;

/// The account's and the sessions' keys are the kernel's (the session gate reads them).
pub use common::session::{session_sk, user_pk, ACCOUNT_SK};
pub fn email_pk(email: &str) -> String {
    format!("EMAIL#{email}")
}
pub const EMAIL_SK: &str = "EMAIL";
pub const RESET_SK: &str = "PASSWORD_RESET";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    /// All accounts, newest first (admin list without a role filter).
    #[serde(rename = "GSI2PK", default)]
    pub gsi2pk: String,
    #[serde(rename = "GSI2SK", default)]
    pub gsi2sk: String,
    pub entity: String,
    pub id: String,
    pub email: String,
    pub role: Role,
    pub full_name: String,
    pub password_hash: String,
    pub status: AccountStatus,
    /// Bumped by password change and reset; sessions opened under an older value are dead.
    pub session_version: u64,
    /// The owner proved the address (a mailed code); employers need it to create companies
    /// and post jobs. Admin accounts are created verified.
    #[serde(default)]
    pub email_verified: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Account {
    pub fn new(id: String, email: String, role: Role, full_name: String, password_hash: String) -> Self {
        let now = common::time::now_rfc3339();
        Account {
            pk: user_pk(&id),
            sk: ACCOUNT_SK.into(),
            gsi1pk: format!("USERS#{}", role.as_str()),
            gsi1sk: format!("{now}#{id}"),
            gsi2pk: "USERS".into(),
            gsi2sk: format!("{now}#{id}"),
            entity: "user".into(),
            id,
            email,
            role,
            full_name,
            password_hash,
            status: AccountStatus::Active,
            session_version: 0,
            email_verified: false,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// The public view of an account (never the hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// ULID.
    pub id: String,
    /// Normalised (trimmed, lower-case).
    pub email: String,
    pub role: Role,
    pub full_name: String,
    /// Whether the address was proven with a mailed code (POST /auth/email/verify).
    pub email_verified: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
}

impl Account {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.clone(),
            email: self.email.clone(),
            role: self.role,
            full_name: self.full_name.clone(),
            email_verified: self.email_verified,
            created_at: self.created_at.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmailClaim {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub user_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub session_id: String,
    pub user_id: String,
    /// The jti of the only refresh token of this family that may be used next.
    pub current_jti: String,
    pub session_version: u64,
    pub remember_me: bool,
    pub created_at: String,
    pub last_used_at: String,
    /// Epoch seconds; checked on use (TTL deletion is late).
    pub expires_at: i64,
    pub ttl: i64,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
}

impl Session {
    pub fn ttl_secs(remember_me: bool) -> i64 {
        if remember_me {
            common::token::REFRESH_REMEMBER_TTL_SECS
        } else {
            common::token::REFRESH_TTL_SECS
        }
    }
    pub fn new(user_id: &str, session_version: u64, remember_me: bool, now: i64) -> Self {
        let sid = ulid::Ulid::new().to_string();
        let expires_at = now + Self::ttl_secs(remember_me);
        let now_s = common::time::rfc3339(now);
        Session {
            pk: user_pk(user_id),
            sk: session_sk(&sid),
            entity: "session".into(),
            session_id: sid,
            user_id: user_id.to_string(),
            current_jti: ulid::Ulid::new().to_string(),
            session_version,
            remember_me,
            created_at: now_s.clone(),
            last_used_at: now_s,
            expires_at,
            ttl: expires_at + 24 * 3600,
            revoked: false,
            revoked_reason: None,
        }
    }
}

/// Creates an account in one transaction: the email claim (unique, 409 `email_taken` when
/// it exists), the account, optionally its first session, and `user.registered`.
pub async fn create_account(app: &App, account: &Account, session: Option<&Session>, actor: common::events::Actor) -> ApiResult<()> {
    let claim = serde_json::json!({"PK": email_pk(&account.email), "SK": EMAIL_SK, "entity": "email", "user_id": account.id});
    let event = DomainEvent::UserRegistered(UserRegistered {
        user_id: account.id.clone(),
        email: account.email.clone(),
        role: account.role,
        full_name: account.full_name.clone(),
    });
    let mut tx = Tx::new(app).put_new("email", &claim).put_new("account", account).emit(actor, event);
    if let Some(s) = session {
        tx = tx.put("session", s);
    }
    match tx.commit().await {
        Err(TxError::Condition { part: "email", .. }) => {
            Err(ApiError::conflict("email_taken", "an account with this email already exists"))
        }
        other => Ok(other?),
    }
}

pub async fn get_email_claim(app: &App, email: &str) -> ApiResult<Option<EmailClaim>> {
    db::get(app, email_pk(email), EMAIL_SK).await
}

/// The account an address belongs to, if any (two reads: the claim, the account).
pub async fn account_by_email(app: &App, email: &str) -> ApiResult<Option<Account>> {
    match get_email_claim(app, email).await? {
        Some(claim) => get_account(app, &claim.user_id).await,
        None => Ok(None),
    }
}

pub async fn get_account(app: &App, user_id: &str) -> ApiResult<Option<Account>> {
    db::get(app, user_pk(user_id), ACCOUNT_SK).await
}

/// The account and one of its sessions in one consistent read.
pub async fn get_account_and_session(app: &App, user_id: &str, sid: &str) -> ApiResult<(Option<Account>, Option<Session>)> {
    db::get_pair(
        app,
        db::key(user_pk(user_id), ACCOUNT_SK),
        db::key(user_pk(user_id), session_sk(sid)),
    )
    .await
}

/// The sign-in failures of one address from one source: `LOGINFAIL#<hash>` / `SOURCE#<hash>`
/// (keyed hashes, so the item names neither the address nor the network, and an address
/// without an account has one as well: its answers are those of any other).
pub fn failures_key(app: &App, email: &str, source_ip: &str) -> ApiResult<(String, String)> {
    let key = app.tokens()?.derive_key("login-failures");
    let hash = |v: &str| common::crypto::hex(&common::crypto::hmac_sha256(&key, v.as_bytes())[..12]);
    Ok((
        format!("LOGINFAIL#{}", hash(email)),
        format!("SOURCE#{}", hash(&crate::rules::network_of(source_ip))),
    ))
}

/// A failures item as read back.
#[derive(Deserialize)]
struct Failures {
    #[serde(default)]
    failed_logins: i64,
    #[serde(default)]
    failure_window_start: i64,
}

/// Claims one password check for `email` from `source_ip` before the password is verified:
/// `Ok(None)` when the check may run (it counts as a failure until a success clears it),
/// `Ok(Some(secs))` when the window's checks from that source are used up (locked for
/// `secs`). Atomic, so any number of parallel attempts verify at most
/// [`MAX_FAILED_LOGINS`](crate::rules::MAX_FAILED_LOGINS) passwords per window and source;
/// one call when no window is open (the common case), two within one.
pub async fn claim_password_check(app: &App, email: &str, source_ip: &str, now: i64) -> ApiResult<Option<u64>> {
    let (pk, sk) = failures_key(app, email, source_ip)?;
    let key = db::key(pk.clone(), sk.clone());
    let window = crate::rules::LOCKOUT_WINDOW_SECS;
    let cutoff = now - window;
    let max = i64::from(crate::rules::MAX_FAILED_LOGINS);
    for _ in 0..5 {
        // A window opens when none is (the item is absent or its window has passed).
        let fresh = app
            .dynamo()
            .update_item()
            .table_name(app.table())
            .set_key(Some(key.clone()))
            .update_expression("SET failed_logins = :one, failure_window_start = :now, #ttl = :ttl")
            .condition_expression("attribute_not_exists(PK) OR failure_window_start <= :cutoff")
            .expression_attribute_names("#ttl", db::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":cutoff", n(cutoff))
            .expression_attribute_values(":ttl", n(now + window + 3600))
            .send()
            .await;
        match fresh {
            Ok(_) => return Ok(None),
            Err(e) if db::is_condition_failed(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let within = app
            .dynamo()
            .update_item()
            .table_name(app.table())
            .set_key(Some(key.clone()))
            .update_expression("ADD failed_logins :one")
            .condition_expression("attribute_exists(PK) AND failure_window_start > :cutoff AND failed_logins < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cutoff", n(cutoff))
            .expression_attribute_values(":max", n(max))
            .send()
            .await;
        match within {
            Ok(_) => return Ok(None),
            Err(e) if db::is_condition_failed(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let seen: Option<Failures> = db::get(app, pk.clone(), sk.clone()).await?;
        let (failures, start) = seen.map_or((0, 0), |f| (f.failed_logins, f.failure_window_start));
        if start > cutoff && failures >= max {
            // The window is current and its checks are used up.
            return Ok(Some((start + window - now).max(1) as u64));
        }
        // The window passed or was cleared meanwhile: claim again.
    }
    Err(ApiError::internal("the login window kept changing"))
}

/// Clears the failures of `email` from `source_ip` (part `failures`): a sign-in or a
/// password change from there succeeded.
pub fn clear_failures<'a>(app: &App, tx: Tx<'a>, email: &str, source_ip: &str) -> ApiResult<Tx<'a>> {
    let (pk, sk) = failures_key(app, email, source_ip)?;
    Ok(tx.delete("failures", db::key(pk, sk), None))
}

/// Ends one session; its access tokens stop working (see `common::session`).
pub async fn revoke_session(app: &App, user_id: &str, sid: &str, reason: &str) -> ApiResult<()> {
    let res = app
        .dynamo()
        .update_item()
        .table_name(app.table())
        .set_key(Some(db::key(user_pk(user_id), session_sk(sid))))
        .update_expression("SET revoked = :t, revoked_reason = :r")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .expression_attribute_values(":r", s(reason))
        .send()
        .await;
    match res {
        Ok(_) => {
            common::session::forget(user_id);
            Ok(())
        }
        Err(e) if db::is_condition_failed(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Moves a session to its next refresh token, only if `old_jti` is still the current one.
/// Returns false when another rotation won (the presented token is then a reused one).
pub async fn rotate_session(app: &App, session: &Session, old_jti: &str, new_jti: &str, now: i64) -> ApiResult<bool> {
    let expires_at = now + Session::ttl_secs(session.remember_me);
    let res = app
        .dynamo()
        .update_item()
        .table_name(app.table())
        .set_key(Some(db::key(&session.pk, &session.sk)))
        .update_expression("SET current_jti = :new, last_used_at = :now, expires_at = :exp, #ttl = :ttl")
        .condition_expression("current_jti = :old AND revoked = :f")
        .expression_attribute_names("#ttl", db::TTL)
        .expression_attribute_values(":new", s(new_jti))
        .expression_attribute_values(":old", s(old_jti))
        .expression_attribute_values(":now", s(common::time::rfc3339(now)))
        .expression_attribute_values(":exp", n(expires_at))
        .expression_attribute_values(":ttl", n(expires_at + 24 * 3600))
        .expression_attribute_values(":f", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
        .send()
        .await;
    match res {
        Ok(_) => Ok(true),
        Err(e) if db::is_condition_failed(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
