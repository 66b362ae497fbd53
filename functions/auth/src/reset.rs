//! Password reset by a mailed code. `forgot` only records the ask (an event, the same for
//! every address: same answer, same work); the notifications consumer issues the code and
//! mails it when the address has an account ([`codes`](crate::codes): at most one a minute
//! and a few a day). `reset` checks the code and replaces the password, ending every session.

use common::api_doc::ErrorBody;
use common::events::{Actor, CodeRequested, DomainEvent, UserNotice};
use common::http::{parse_json, status_only, Request, Response};
use common::tx::{Tx, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::codes::{self, Purpose};
use crate::passwords;
use crate::rules::{Email, Password, Problems};
use crate::store;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotBody {
    pub email: String,
}

#[utoipa::path(post, path = "/auth/password/forgot", tag = "auth", request_body = ForgotBody,
    responses((status = 202, description = "always, known email or not; a code is mailed if the account exists"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// POST /auth/password/forgot: always 202; a single-use code is mailed if the account exists.
pub async fn forgot(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: ForgotBody = parse_json(&req)?;
    if let Ok(email) = Email::parse(&body.email) {
        let event = DomainEvent::PasswordResetRequested(CodeRequested {
            email: email.as_str().to_string(),
        });
        Tx::new(app).emit(Actor::System, event).commit().await?;
    }
    status_only(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub email: String,
    pub code: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/auth/password/reset", tag = "auth", request_body = ResetBody,
    responses(
        (status = 204, description = "password replaced; every session ended"),
        (status = 400, description = "`invalid_reset_code` (wrong, used, expired or burned after 5 tries)", body = ErrorBody),
        (status = 422, description = "the new password breaks the policy", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: 10 wrong codes a day", body = ErrorBody)))]
/// POST /auth/password/reset: single-use code, 5 tries; ends every session.
pub async fn reset(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: ResetBody = parse_json(&req)?;
    let mut p = Problems::default();
    let Some(password) = p.check("new_password", Password::parse(&body.new_password)) else {
        return Err(p.into_error());
    };
    const MESSAGE: &str = "the reset code is not valid or has expired";
    let invalid = || ApiError::bad_request(MESSAGE).with_code("invalid_reset_code");
    let email = Email::parse(&body.email).map_err(|_| invalid())?;
    let claim = store::get_email_claim(app, email.as_str()).await?.ok_or_else(invalid)?;
    let checked = match codes::check(app, &claim.user_id, Purpose::PasswordReset, &body.code).await? {
        Ok(c) => c,
        Err(refused) => return Err(refused.error("invalid_reset_code", MESSAGE)),
    };
    let account = store::get_account(app, &claim.user_id).await?.ok_or_else(invalid)?;
    let hash = passwords::hash(password.expose().to_string()).await?;
    let event = DomainEvent::PasswordReset(UserNotice {
        user_id: account.id.clone(),
        email: account.email.clone(),
    });
    let tx = checked.consume(Tx::new(app));
    let tx = crate::handlers::password_update(tx, &account, &hash, account.session_version + 1, false);
    // Failures from the network the reset came from are cleared; others run out with their
    // 15-minute windows (an attacker's network stays locked).
    let source = common::http::source_ip(&req);
    let tx = store::clear_failures(app, tx, &account.email, &source)?.emit(Actor::user(&account.id), event);
    match tx.commit().await {
        // The code was used concurrently, or the account changed.
        Err(TxError::Condition { .. }) => return Err(invalid()),
        other => other?,
    }
    common::session::forget(&account.id);
    status_only(StatusCode::NO_CONTENT)
}
