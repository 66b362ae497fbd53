//! The account as other domains see it: its key, its summary (name, role, status), and the
//! live-account check that every write on behalf of a signed-in user carries. The only
//! place outside the auth storage that knows how accounts are stored.
//!
//! An access token lives 15 minutes; suspending, demoting or erasing an account must stop
//! its writes at once. Each such write is one transaction that also checks the account
//! (present, active, role as in the token) with no extra round trip ([`writes_by`]). Reads,
//! admin routes included, rely on the session gate of `common::http::authenticate`, which
//! has checked the same account state (at most `common::session::REMEMBER` ago).

use common::db::{self, s, Item};
use common::http::{require_role, Request};
use common::token::{Principal, Role};
use common::tx::{Cond, Tx};
use common::{ApiError, ApiResult, App};
use serde::Deserialize;

pub use crate::store::AccountStatus;
use crate::store::{user_pk, ACCOUNT_SK};

/// The partition of everything that belongs to one user (`PK` of the account, sessions,
/// memberships, files, ...).
pub fn partition(user_id: &str) -> String {
    user_pk(user_id)
}

/// The account item's key.
pub fn key(user_id: &str) -> Item {
    db::key(user_pk(user_id), ACCOUNT_SK)
}

/// What other domains may know of an account (never the password hash).
#[derive(Clone, Debug, Deserialize)]
pub struct Summary {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub status: AccountStatus,
    pub updated_at: String,
}

impl Summary {
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

/// A summary with the account's state version (it grows with every suspension,
/// reinstatement, role change and password change), for copies kept elsewhere (search).
#[derive(Clone, Debug, Deserialize)]
pub struct Versioned {
    #[serde(flatten)]
    pub summary: Summary,
    pub session_version: u64,
}

/// One account's summary, strongly consistent; `None` when there is none (erased).
pub async fn summary(app: &App, user_id: &str) -> ApiResult<Option<Summary>> {
    db::get(app, user_pk(user_id), ACCOUNT_SK).await
}

/// Several accounts' summaries in one call (BatchGetItem, at most 100 ids); missing ones
/// are left out.
pub async fn summaries(app: &App, user_ids: &[&str]) -> ApiResult<Vec<Summary>> {
    let items = db::batch_get(app, user_ids.iter().map(|id| key(id)).collect()).await?;
    items.into_iter().map(db::from_item).collect()
}

/// The condition "this account exists, is active and has the role the token says".
pub fn live_condition(me: &Principal) -> Cond {
    Cond::new("#status = :active AND #role = :role")
        .name("#status", "status")
        .name("#role", "role")
        .value(":active", s("active"))
        .value(":role", s(me.role.as_str()))
}

/// The answer to a valid token whose account was erased.
pub fn gone() -> ApiError {
    ApiError::unauthorized("this account no longer exists").with_code("account_deleted")
}

/// Why `me`'s token may no longer act, from the account item as the failed check saw it;
/// `None` when the account is fine (another condition of the same part failed).
pub fn refusal(me: &Principal, seen: Option<&Item>) -> Option<ApiError> {
    let Some(item) = seen else {
        return Some(gone());
    };
    if db::get_s(item, "status") != Some("active") {
        return Some(ApiError::forbidden("this account is suspended").with_code("account_suspended"));
    }
    if db::get_s(item, "role") != Some(me.role.as_str()) {
        return Some(ApiError::unauthorized("the role of this account changed; sign in again").with_code("role_changed"));
    }
    None
}

fn refuse(me: &Principal) -> impl Fn(Option<&Item>) -> ApiError + Send + Sync + 'static {
    let me = me.clone();
    move |seen| {
        refusal(&me, seen).unwrap_or_else(|| ApiError::conflict("concurrent_change", "the account changed meanwhile; reload and retry"))
    }
}

/// A transaction on behalf of `me`: its first part (`account`) checks the live account, so
/// a suspended, demoted or erased account's unexpired token changes nothing.
pub fn writes_by<'a>(app: &'a App, me: &Principal) -> Tx<'a> {
    Tx::new(app)
        .check("account", key(&me.user_id), live_condition(me))
        .refuse_with(refuse(me))
}

/// Like [`writes_by`], for a change that also renames the account (a transaction may touch
/// an item once, so the rename carries the live condition): part `account`, which also
/// fails (409) when the account changed since `seen` was read.
pub fn writes_by_renaming<'a>(app: &'a App, me: &Principal, seen: &Summary, full_name: &str, now: &str) -> Tx<'a> {
    let set = Cond::new("SET full_name = :n, updated_at = :now")
        .value(":n", s(full_name))
        .value(":now", s(now));
    let cond = live_condition(me)
        .expr("#status = :active AND #role = :role AND updated_at = :prev")
        .value(":prev", s(&seen.updated_at));
    Tx::new(app)
        .update("account", key(&me.user_id), set, Some(cond))
        .refuse_with(refuse(me))
}

/// Fails as [`refusal`], and with 403 `email_unverified` while the account has not
/// proven its address (one consistent read): employers creating companies and posting jobs.
pub async fn require_verified(app: &App, me: &Principal) -> ApiResult<()> {
    let item = live_account(app, me).await?;
    if item.get("email_verified").and_then(|v| v.as_bool().ok()) != Some(&true) {
        return Err(
            ApiError::forbidden("verify your email address first (POST /auth/email/verify with the mailed code)")
                .with_code("email_unverified"),
        );
    }
    Ok(())
}

/// The caller, an admin whose account the session gate found an active admin's.
pub async fn require_admin(app: &App, req: &Request) -> ApiResult<Principal> {
    require_role(app, req, &[Role::Admin]).await
}

/// The account item (status, role, `email_verified`) when `me` may act.
async fn live_account(app: &App, me: &Principal) -> ApiResult<Item> {
    let item = app
        .dynamo()
        .get_item()
        .table_name(app.table())
        .set_key(Some(key(&me.user_id)))
        .consistent_read(true)
        .projection_expression("#status, #role, email_verified")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#role", "role")
        .send()
        .await?
        .item;
    match item {
        Some(i) if db::get_s(&i, "status") == Some("active") && db::get_s(&i, "role") == Some(me.role.as_str()) => Ok(i),
        other => Err(refusal(me, other.as_ref()).unwrap_or_else(|| ApiError::internal("account check failed without a reason"))),
    }
}

/// The ids of every account with `role`, every page (search's rebuild).
pub async fn ids_with_role(app: &App, role: Role) -> ApiResult<Vec<String>> {
    Ok(db::query_all(app, Some("GSI1"), format!("USERS#{}", role.as_str()), None)
        .await?
        .iter()
        .filter_map(|i| db::get_s(i, "id").map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_why() {
        let me = Principal {
            user_id: "u".into(),
            role: Role::Employer,
            session_id: "s".into(),
        };
        assert_eq!(refusal(&me, None).unwrap().code, "account_deleted");
        let suspended = Item::from([("status".to_string(), s("suspended")), ("role".to_string(), s("employer"))]);
        assert_eq!(refusal(&me, Some(&suspended)).unwrap().code, "account_suspended");
        let demoted = Item::from([("status".to_string(), s("active")), ("role".to_string(), s("seeker"))]);
        let e = refusal(&me, Some(&demoted)).unwrap();
        assert_eq!((e.code, e.status.as_u16()), ("role_changed", 401));
        let fine = Item::from([("status".to_string(), s("active")), ("role".to_string(), s("employer"))]);
        assert!(refusal(&me, Some(&fine)).is_none());
    }
}
