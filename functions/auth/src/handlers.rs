//! HTTP handlers of the Auth section of API.md.

use common::api_doc::ErrorBody;
use common::db;
use common::events::{Actor, DomainEvent, UserNotice};
use common::http::{authenticate, created, ok, parse_json, status_only, Request, Response};
use common::token::{TokenUse, ACCESS_TTL_SECS};
use common::tx::{Cond, Tx, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::passwords;
use crate::rules::{registrable_role, Email, FullName, Password, Problems};
use crate::store::{self, Account, AccountStatus, Session, UserView};

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("the email or password is not correct").with_code("invalid_credentials")
}

fn session_revoked() -> ApiError {
    ApiError::unauthorized("this session has ended; sign in again").with_code("session_revoked")
}

/// A signed-in session: the account and a fresh token pair.
#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: UserView,
    /// JWT for `Authorization: Bearer`, valid 15 minutes.
    pub access_token: String,
    /// JWT for POST /auth/refresh, valid 7 days (30 with `remember_me`); single use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token is valid.
    pub expires_in: i64,
}

fn session_body(app: &App, account: &Account, session: &Session, now: i64) -> ApiResult<SessionResponse> {
    let keys = app.tokens()?;
    Ok(SessionResponse {
        user: account.view(),
        access_token: keys.access_token(&account.id, account.role, &session.session_id, now)?,
        refresh_token: keys.refresh_token(
            &account.id,
            &session.session_id,
            &session.current_jti,
            now,
            session.expires_at - now,
        )?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TTL_SECS,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub email: String,
    pub password: String,
    pub role: String,
    pub full_name: String,
}

/// POST /auth/register
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe creation: the same key returns the first result")),
    responses(
        (status = 201, description = "account created and signed in", body = SessionResponse),
        (status = 400, description = "malformed body or Idempotency-Key", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "invalid fields (`details` names them); `idempotency_key_reused`", body = ErrorBody)))]
pub async fn register(app: &'static App, req: Request) -> ApiResult<Response> {
    if let Some(done) = common::idempotency::replay_if_done(app, &req, "anonymous").await? {
        return Ok(done);
    }
    let body: RegisterBody = parse_json(&req)?;
    let mut p = Problems::default();
    let email = p.check("email", Email::parse(&body.email));
    let password = p.check("password", Password::parse(&body.password));
    let role = p.check("role", registrable_role(&body.role));
    let name = p.check("full_name", FullName::parse(&body.full_name));
    if let (Some(e), Some(pw)) = (&email, &password) {
        if pw.expose().to_lowercase() == e.as_str() {
            p.add("password", "must not be your email address");
        }
    }
    let (Some(email), Some(password), Some(role), Some(name)) = (email, password, role, name) else {
        return Err(p.into_error());
    };
    p.into_result()?;

    let work = Box::pin(async move {
        let hash = passwords::hash(password.expose().to_string()).await?;
        let now = common::time::now_secs();
        let account = Account::new(
            ulid::Ulid::new().to_string(),
            email.as_str().to_string(),
            role,
            name.as_str().to_string(),
            hash,
        );
        let session = Session::new(&account.id, account.session_version, false, now);
        store::create_account(app, &account, Some(&session), Actor::User { id: account.id.clone() }).await?;
        created(&session_body(app, &account, &session, now)?)
    });
    common::idempotency::run(app, &req, "anonymous", work).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub remember_me: bool,
}

fn account_locked(wait: u64) -> ApiError {
    ApiError::too_many_requests(wait, "too many failed password attempts; try again later").with_code("account_locked")
}

/// POST /auth/login
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "signed in", body = SessionResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`account_suspended`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`account_locked` after 5 failures in 15 minutes for this address from this network (any address, with or without an account); see Retry-After", body = ErrorBody)))]
pub async fn login(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: LoginBody = parse_json(&req)?;
    let now = common::time::now_secs();
    let Ok(email) = Email::parse(&body.email) else {
        passwords::verify_against_dummy(body.password).await?;
        return Err(invalid_credentials());
    };
    // Failures count per address and network, for addresses with and without an account
    // alike: nobody locks the owner out from elsewhere, and no answer tells whether an
    // address has an account. The check is claimed before the password is verified, so
    // parallel attempts cannot verify more passwords than the window allows.
    let source = common::http::source_ip(&req);
    if let Some(wait) = store::claim_password_check(app, email.as_str(), &source, now).await? {
        return Err(account_locked(wait));
    }
    let Some(claim) = store::get_email_claim(app, email.as_str()).await? else {
        passwords::verify_against_dummy(body.password).await?;
        return Err(invalid_credentials());
    };
    let Some(account) = store::get_account(app, &claim.user_id).await? else {
        passwords::verify_against_dummy(body.password).await?;
        return Err(invalid_credentials());
    };
    if !passwords::verify(body.password, account.password_hash.clone()).await? {
        return Err(invalid_credentials());
    }
    if account.status != AccountStatus::Active {
        return Err(ApiError::forbidden("this account is suspended").with_code("account_suspended"));
    }
    let session = Session::new(&account.id, account.session_version, body.remember_me, now);
    store::clear_failures(app, Tx::new(app).put("session", &session), email.as_str(), &source)?
        .commit()
        .await?;
    ok(&session_body(app, &account, &session, now)?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, description = "a new token pair (the presented refresh token is spent)", body = SessionResponse),
        (status = 401, description = "`invalid_token`, `token_expired`, `session_revoked`, `refresh_token_reused` (the session is ended)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// POST /auth/refresh: rotates the refresh token. Presenting a token that was already
/// rotated away revokes the whole session (family), so a stolen token dies with its copy.
pub async fn refresh(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: RefreshBody = parse_json(&req)?;
    let claims = app.tokens()?.verify(&body.refresh_token, TokenUse::Refresh)?;
    let now = common::time::now_secs();
    let (account, session) = store::get_account_and_session(app, &claims.sub, &claims.sid).await?;
    let (Some(account), Some(session)) = (account, session) else {
        return Err(session_revoked());
    };
    if session.revoked || session.expires_at <= now || session.session_version != account.session_version {
        return Err(session_revoked());
    }
    if account.status != AccountStatus::Active {
        return Err(ApiError::forbidden("this account is suspended").with_code("account_suspended"));
    }
    if session.current_jti != claims.jti {
        tracing::warn!(user_id = %account.id, session_id = %session.session_id, "refresh token reuse; revoking the session");
        store::revoke_session(app, &account.id, &session.session_id, "refresh_token_reused").await?;
        return Err(
            ApiError::unauthorized("this refresh token was already used; the session has been ended").with_code("refresh_token_reused"),
        );
    }
    let new_jti = ulid::Ulid::new().to_string();
    if !store::rotate_session(app, &session, &claims.jti, &new_jti, now).await? {
        // Another request rotated this token first: the same token was presented twice.
        store::revoke_session(app, &account.id, &session.session_id, "refresh_token_reused").await?;
        return Err(
            ApiError::unauthorized("this refresh token was already used; the session has been ended").with_code("refresh_token_reused"),
        );
    }
    let mut rotated = session;
    rotated.current_jti = new_jti;
    rotated.expires_at = now + Session::ttl_secs(rotated.remember_me);
    ok(&session_body(app, &account, &rotated, now)?)
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshBody, security(("bearer" = [])),
    responses(
        (status = 204, description = "the session of this refresh token is ended"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "the refresh token belongs to another account", body = ErrorBody)))]
/// POST /auth/logout: ends the session (family) of the given refresh token.
pub async fn logout(app: &'static App, req: Request) -> ApiResult<Response> {
    let principal = common::http::token_principal(app, &req)?;
    let body: RefreshBody = parse_json(&req)?;
    let claims = match app.tokens()?.verify(&body.refresh_token, TokenUse::Refresh) {
        Ok(c) => c,
        // An expired refresh token's session is over already.
        Err(e) if e.code == "token_expired" => return status_only(StatusCode::NO_CONTENT),
        Err(e) => return Err(e),
    };
    if claims.sub != principal.user_id {
        return Err(ApiError::forbidden("this refresh token belongs to another account"));
    }
    store::revoke_session(app, &claims.sub, &claims.sid, "logout").await?;
    status_only(StatusCode::NO_CONTENT)
}

/// GET /auth/me
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, description = "`account_suspended`", body = ErrorBody)))]
pub async fn me(app: &'static App, req: Request) -> ApiResult<Response> {
    let principal = authenticate(app, &req).await?;
    let account = store::get_account(app, &principal.user_id).await?.ok_or_else(session_revoked)?;
    if account.status != AccountStatus::Active {
        return Err(ApiError::forbidden("this account is suspended").with_code("account_suspended"));
    }
    ok(&account.view())
}

/// The new password (part `password`), if the account's sessions did not change meanwhile;
/// with `live`, only while the account is active (a suspended account's token changes
/// nothing).
pub(crate) fn password_update<'a>(tx: Tx<'a>, account: &Account, hash: &str, new_version: u64, live: bool) -> Tx<'a> {
    let set = Cond::new("SET password_hash = :h, session_version = :new, updated_at = :now")
        .value(":h", db::s(hash))
        .value(":new", db::n(new_version))
        .value(":now", db::s(common::time::now_rfc3339()));
    let unchanged = Cond::new("session_version = :old").value(":old", db::n(account.session_version));
    let unchanged = if live {
        unchanged
            .expr("session_version = :old AND #status = :active")
            .name("#status", "status")
            .value(":active", db::s("active"))
    } else {
        unchanged
    };
    tx.update("password", db::key(&account.pk, &account.sk), set, Some(unchanged))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    pub current_password: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/auth/password/change", tag = "auth", request_body = ChangeBody, security(("bearer" = [])),
    responses(
        (status = 204, description = "password replaced; other sessions ended, this one kept"),
        (status = 401, body = ErrorBody),
        (status = 409, description = "`concurrent_change`", body = ErrorBody),
        (status = 422, description = "wrong `current_password` or a weak `new_password`", body = ErrorBody),
        (status = 429, description = "`account_locked`: wrong current passwords count with failed sign-ins from the same network (5 in 15 minutes)", body = ErrorBody)))]
/// POST /auth/password/change: ends every other session; the caller's stays.
pub async fn change_password(app: &'static App, req: Request) -> ApiResult<Response> {
    let principal = authenticate(app, &req).await?;
    let body: ChangeBody = parse_json(&req)?;
    let mut p = Problems::default();
    let password = p.check("new_password", Password::parse(&body.new_password));
    if body.new_password == body.current_password {
        p.add("new_password", "must differ from the current password");
    }
    let Some(password) = password else {
        return Err(p.into_error());
    };
    p.into_result()?;
    let (account, session) = store::get_account_and_session(app, &principal.user_id, &principal.session_id).await?;
    let (Some(account), Some(session)) = (account, session) else {
        return Err(session_revoked());
    };
    if account.status != AccountStatus::Active {
        return Err(ApiError::forbidden("this account is suspended").with_code("account_suspended"));
    }
    if session.revoked || session.session_version != account.session_version {
        return Err(session_revoked());
    }
    // Wrong current passwords count against the same window as sign-ins.
    let now = common::time::now_secs();
    let source = common::http::source_ip(&req);
    if let Some(wait) = store::claim_password_check(app, &account.email, &source, now).await? {
        return Err(account_locked(wait));
    }
    if !passwords::verify(body.current_password, account.password_hash.clone()).await? {
        return Err(ApiError::invalid_field("current_password", "is not correct"));
    }
    let hash = passwords::hash(password.expose().to_string()).await?;
    let new_version = account.session_version + 1;
    let keep_session = Cond::new("SET session_version = :v").value(":v", db::n(new_version));
    let live_session = Cond::new("revoked = :f").value(":f", aws_sdk_dynamodb::types::AttributeValue::Bool(false));
    let event = DomainEvent::PasswordChanged(UserNotice {
        user_id: account.id.clone(),
        email: account.email.clone(),
    });
    let tx = password_update(Tx::new(app), &account, &hash, new_version, true)
        .update("session", db::key(&session.pk, &session.sk), keep_session, Some(live_session))
        .emit(Actor::user(&account.id), event);
    let tx = store::clear_failures(app, tx, &account.email, &source)?;
    match tx.commit().await {
        Err(TxError::Condition { .. }) => return Err(ApiError::conflict("concurrent_change", "the account changed meanwhile; try again")),
        other => other?,
    }
    common::session::forget(&account.id);
    status_only(StatusCode::NO_CONTENT)
}
