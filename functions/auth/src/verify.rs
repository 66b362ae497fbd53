//! Email verification: the welcome email carries a code (and a link with it); POST
//! /auth/email/verify proves the address, GET the same from the link; POST /auth/email/resend
//! asks for a new code (the same answer for every address: the notifications consumer
//! mails it when there is an unverified account). Codes: [`codes`](crate::codes).

use common::api_doc::ErrorBody;
use common::events::{Actor, CodeRequested, DomainEvent};
use common::http::{ok, parse_json, query_param, status_only, Request, Response};
use common::tx::{Cond, Tx, TxError};
use common::{ApiError, ApiResult, App};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::{self, Purpose};
use crate::rules::Email;
use crate::store;

const MESSAGE: &str = "the verification code is not valid or has expired";

fn invalid() -> ApiError {
    ApiError::bad_request(MESSAGE).with_code("invalid_verification_code")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub email: String,
    /// The 8 digits from the email.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Verified {
    pub email: String,
    pub email_verified: bool,
}

/// Checks the code and marks the account verified.
async fn verify_code(app: &App, email: &str, code: &str) -> ApiResult<String> {
    let email = Email::parse(email).map_err(|_| invalid())?;
    let claim = store::get_email_claim(app, email.as_str()).await?.ok_or_else(invalid)?;
    let checked = match codes::check(app, &claim.user_id, Purpose::EmailVerification, code).await? {
        Ok(c) => c,
        Err(refused) => return Err(refused.error("invalid_verification_code", MESSAGE)),
    };
    let set = Cond::new("SET email_verified = :t").value(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true));
    let tx = checked.consume(Tx::new(app)).update(
        "account",
        common::db::key(store::user_pk(&claim.user_id), store::ACCOUNT_SK),
        set,
        Some(Cond::present()),
    );
    match tx.commit().await {
        Err(TxError::Condition { .. }) => return Err(invalid()),
        other => other?,
    }
    Ok(email.as_str().to_string())
}

/// POST /auth/email/verify
#[utoipa::path(post, path = "/auth/email/verify", tag = "auth", request_body = VerifyBody,
    responses((status = 204, description = "the address is verified"),
        (status = 400, description = "`invalid_verification_code` (wrong, used, expired or burned after 5 tries)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: 10 wrong codes a day", body = ErrorBody)))]
pub async fn verify(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: VerifyBody = parse_json(&req)?;
    verify_code(app, &body.email, &body.code).await?;
    status_only(StatusCode::NO_CONTENT)
}

/// GET /auth/email/verify (the link in the email)
#[utoipa::path(get, path = "/auth/email/verify", tag = "auth",
    params(("email" = String, Query), ("code" = String, Query)),
    responses((status = 200, description = "the address is verified", body = Verified),
        (status = 400, description = "`invalid_verification_code`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody)))]
pub async fn verify_link(app: &'static App, req: Request) -> ApiResult<Response> {
    let (Some(email), Some(code)) = (query_param(&req, "email"), query_param(&req, "code")) else {
        return Err(invalid());
    };
    let email = verify_code(app, &email, &code).await?;
    ok(&Verified {
        email,
        email_verified: true,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendBody {
    pub email: String,
}

/// POST /auth/email/resend
#[utoipa::path(post, path = "/auth/email/resend", tag = "auth", request_body = ResendBody,
    responses((status = 202, description = "always: a new code is mailed if there is an unverified account"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resend(app: &'static App, req: Request) -> ApiResult<Response> {
    let body: ResendBody = parse_json(&req)?;
    if let Ok(email) = Email::parse(&body.email) {
        let event = DomainEvent::VerificationRequested(CodeRequested {
            email: email.as_str().to_string(),
        });
        Tx::new(app).emit(Actor::System, event).commit().await?;
    }
    status_only(StatusCode::ACCEPTED)
}
