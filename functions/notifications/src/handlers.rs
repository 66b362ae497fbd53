//! The in-app notification routes (API.md, "Notifications"): the caller's list (newest
//! first, `?unread=true`), the unread count, read and read-all.

use common::api_doc::ErrorBody;
use common::cursor::{filtered_page, Filter, IndexQuery};
use common::db::{self, n};
use common::http::{authenticate, id_param, ok, query_param, status_only, Request, Response};
use common::{ApiError, ApiResult, App};
use serde::Serialize;
use utoipa::ToSchema;

use crate::inbox::{self, Notification};

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnreadCount {
    /// Unread notifications (a counter kept with the writes).
    pub count: i64,
}

/// GET /me/notifications
#[utoipa::path(get, path = "/me/notifications", tag = "notifications", security(("bearer" = [])),
    params(("unread" = Option<bool>, Query, description = "true: only unread ones"), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "newest first; kept 90 days", body = NotificationPage),
        (status = 400, description = "`invalid_filter`, `invalid_cursor`, `invalid_limit`", body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let unread = match query_param(&req, "unread").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("unread must be true or false").with_code("invalid_filter")),
    };
    let (index, key) = if unread {
        ("GSI2", inbox::unread_of(&me.user_id))
    } else {
        ("GSI1", inbox::all_of(&me.user_id))
    };
    let mut live = Filter::default();
    let (at, now) = (live.name("expires_at"), live.value(n(common::time::now_secs())));
    live.raw(format!("{at} > {now}"));
    let context = format!("notifications?{}&{unread}", me.user_id);
    let page = filtered_page(app, &req, &context, IndexQuery::newest_first(index, key, live)).await?;
    let items = page
        .items
        .into_iter()
        .map(|i| db::from_item::<inbox::Item>(i).map(|i| i.value.notification))
        .collect::<ApiResult<Vec<_>>>()?;
    ok(&NotificationPage {
        items,
        next_cursor: page.next_cursor,
    })
}

/// GET /me/notifications/unread-count
#[utoipa::path(get, path = "/me/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn unread_count(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    ok(&UnreadCount {
        count: inbox::unread_count(app, &me.user_id).await?,
    })
}

/// POST /me/notifications/{id}/read
#[utoipa::path(post, path = "/me/notifications/{id}/read", tag = "notifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "read (also when it already was)"), (status = 401, body = ErrorBody),
        (status = 404, description = "no such notification of the caller's", body = ErrorBody)))]
pub async fn read(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let id = id_param(&req, "id", "notification")?;
    let tx = auth::account::writes_by(app, &me);
    match inbox::mark_read(tx, &me.user_id, &id, &common::time::now_rfc3339()).await? {
        Some(_) => status_only(http::StatusCode::NO_CONTENT),
        None => Err(ApiError::not_found("no such notification")),
    }
}

/// POST /me/notifications/read-all
#[utoipa::path(post, path = "/me/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "every notification read; the unread count is 0"), (status = 401, body = ErrorBody)))]
pub async fn read_all(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let now = common::time::now_rfc3339();
    let ids = inbox::unread_ids(app, &me.user_id).await?;
    for id in ids {
        inbox::mark_read(auth::account::writes_by(app, &me), &me.user_id, &id, &now).await?;
    }
    status_only(http::StatusCode::NO_CONTENT)
}
