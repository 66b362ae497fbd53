//! One-click unsubscribe: the link in each email's footer (GET) and the RFC 8058
//! `List-Unsubscribe-Post` request mail clients send (POST). No login: the sealed token says
//! whose emails of which kind to stop, and that is all it can do. A job alert's link stops
//! that saved search's alerts; any other kind's turns that kind's email off in the
//! preferences. Account-security notices have no link (they cannot be turned off).

use common::api_doc::ErrorBody;
use common::http::{ok, query_param, Request, Response};
use common::unsubscribe::{open, Stop};
use common::vocab::AlertFrequency;
use common::{ApiError, ApiResult, App};
use serde::Serialize;
use utoipa::ToSchema;

use crate::inbox::Kind;

#[derive(Serialize, ToSchema)]
pub struct Unsubscribed {
    /// The kind whose emails stop (`job_alert`, `new_applicant`, ...).
    pub kind: String,
    /// Job alerts: the saved search whose alerts are now off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_search_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<AlertFrequency>,
}

async fn stop(app: &App, req: &Request) -> ApiResult<Response> {
    let bad = || ApiError::bad_request("the unsubscribe link is not valid").with_code("invalid_token");
    let token = query_param(req, "token").ok_or_else(bad)?;
    let Some(Stop { kind, user_id, item_id }) = open(app, &token)? else {
        return Err(bad());
    };
    match Kind::parse(&kind) {
        Some(Kind::JobAlert) => {
            let saved = search::saved::turn_off(app, &user_id, &item_id)
                .await?
                .ok_or_else(|| ApiError::not_found("the saved search no longer exists"))?;
            ok(&Unsubscribed {
                kind,
                saved_search_id: Some(saved.id),
                name: Some(saved.name),
                frequency: Some(saved.frequency),
            })
        }
        Some(Kind::AccountSecurity) | None => Err(bad()),
        Some(k) => {
            if !crate::preferences::email_off(app, &user_id, k).await? {
                return Err(ApiError::not_found("the account no longer exists"));
            }
            ok(&Unsubscribed {
                kind,
                saved_search_id: None,
                name: None,
                frequency: None,
            })
        }
    }
}

/// GET /unsubscribe
#[utoipa::path(get, path = "/unsubscribe", tag = "notifications", params(("token" = String, Query, description = "from the email's link")),
    responses((status = 200, description = "emails of that kind (job alerts: of that saved search) are off", body = Unsubscribed),
        (status = 400, description = "`invalid_token`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn by_link(app: &'static App, req: Request) -> ApiResult<Response> {
    stop(app, &req).await
}

/// POST /unsubscribe (RFC 8058 one-click: `List-Unsubscribe=One-Click` in the body)
#[utoipa::path(post, path = "/unsubscribe", tag = "notifications", params(("token" = String, Query, description = "from the List-Unsubscribe header")),
    responses((status = 200, description = "emails of that kind (job alerts: of that saved search) are off", body = Unsubscribed),
        (status = 400, description = "`invalid_token`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn one_click(app: &'static App, req: Request) -> ApiResult<Response> {
    stop(app, &req).await
}
