//! One-click unsubscribe from job alerts: the link in each alert email (GET) and the
//! `List-Unsubscribe-Post` one-click request mail clients send (POST). No login: the
//! sealed token says which saved search, and turning its alerts off is all it can do.

use common::api_doc::ErrorBody;
use common::http::{ok, query_param, Request, Response};
use common::unsubscribe::{open, Stop};
use common::vocab::AlertFrequency;
use common::{ApiError, ApiResult, App};
use serde::Serialize;
use utoipa::ToSchema;

pub const JOB_ALERT: &str = "job_alert";

#[derive(Serialize, ToSchema)]
pub struct Unsubscribed {
    /// `job_alert`.
    pub kind: String,
    pub saved_search_id: String,
    pub name: String,
    pub frequency: AlertFrequency,
}

async fn stop(app: &App, req: &Request) -> ApiResult<Response> {
    let bad = || ApiError::bad_request("the unsubscribe link is not valid").with_code("invalid_token");
    let token = query_param(req, "token").ok_or_else(bad)?;
    let Some(Stop { kind, user_id, item_id }) = open(app, &token) else {
        return Err(bad());
    };
    if kind != JOB_ALERT {
        return Err(bad());
    }
    let saved = crate::saved::turn_off(app, &user_id, &item_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the saved search no longer exists"))?;
    ok(&Unsubscribed {
        kind,
        saved_search_id: saved.id,
        name: saved.name,
        frequency: saved.frequency,
    })
}

/// GET /unsubscribe
#[utoipa::path(get, path = "/unsubscribe", tag = "search", params(("token" = String, Query, description = "from the email's link")),
    responses((status = 200, description = "alerts of that saved search are off", body = Unsubscribed),
        (status = 400, description = "`invalid_token`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn by_link(app: &'static App, req: Request) -> ApiResult<Response> {
    stop(app, &req).await
}

/// POST /unsubscribe (RFC 8058 one-click: `List-Unsubscribe=One-Click` in the body)
#[utoipa::path(post, path = "/unsubscribe", tag = "search", params(("token" = String, Query, description = "from the List-Unsubscribe header")),
    responses((status = 200, description = "alerts of that saved search are off", body = Unsubscribed),
        (status = 400, description = "`invalid_token`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn one_click(app: &'static App, req: Request) -> ApiResult<Response> {
    stop(app, &req).await
}
