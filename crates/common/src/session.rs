//! The session gate: an access token is only as good as its session and its account.
//!
//! A signature proves who was signed in when the token was issued; it cannot know that the
//! session has since ended (logout, a password change elsewhere, refresh-token reuse) or
//! that the account was suspended, demoted or erased. Every authenticated request therefore
//! reads the account item and the token's session item (one consistent `BatchGetItem` of
//! two items in the user's partition) and refuses a token whose session or account is no
//! longer live. A container remembers a live answer for [`REMEMBER`], so a burst of
//! requests by one session costs one read; a revocation reaches every container within
//! that time (and the one that revoked at once, [`forget`]). See docs/decisions.md.
//!
//! This module is the kernel's part of the account layout (the auth domain owns the items
//! and writes them): the account's and a session's keys, and the attributes checked here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::KeysAndAttributes;

use crate::db::{self, Item};
use crate::token::Principal;
use crate::{ApiError, ApiResult, App};

/// How long a container trusts a live answer.
pub const REMEMBER: Duration = Duration::from_secs(2);
/// Remembered sessions per container before the memory is cleared.
const MAX_REMEMBERED: usize = 10_000;

/// The partition of everything that belongs to one user.
pub fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}
/// The sort key of the account item.
pub const ACCOUNT_SK: &str = "ACCOUNT";
/// The sort key of a session (refresh-token family) item.
pub fn session_sk(session_id: &str) -> String {
    format!("SESSION#{session_id}")
}

/// Live sessions seen lately: (user, session, role) -> when it was read.
static LIVE: Mutex<Option<HashMap<(String, String), Instant>>> = Mutex::new(None);

fn remembered(p: &Principal) -> bool {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let key = (p.user_id.clone(), p.session_id.clone());
    live.as_ref().and_then(|m| m.get(&key)).is_some_and(|at| at.elapsed() < REMEMBER)
}

fn remember(p: &Principal) {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let map = live.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_REMEMBERED {
        map.retain(|_, at| at.elapsed() < REMEMBER);
        if map.len() >= MAX_REMEMBERED {
            map.clear();
        }
    }
    map.insert((p.user_id.clone(), p.session_id.clone()), Instant::now());
}

/// Forgets every remembered session of `user_id`: called where a session or the account
/// changes, so the container that made the change refuses the old token at once.
pub fn forget(user_id: &str) {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(map) = live.as_mut() {
        map.retain(|(user, _), _| user != user_id);
    }
}

fn ended() -> ApiError {
    ApiError::unauthorized("this session has ended; sign in again").with_code("session_revoked")
}

/// Why a token of `p` may no longer be used, from its account and session items; `None`
/// when both are live.
pub fn refusal(p: &Principal, account: Option<&Item>, session: Option<&Item>, now: i64) -> Option<ApiError> {
    let Some(account) = account else {
        return Some(ApiError::unauthorized("this account no longer exists").with_code("account_deleted"));
    };
    if db::get_s(account, "status") != Some("active") {
        return Some(ApiError::forbidden("this account is suspended").with_code("account_suspended"));
    }
    if db::get_s(account, "role") != Some(p.role.as_str()) {
        return Some(ApiError::unauthorized("the role of this account changed; sign in again").with_code("role_changed"));
    }
    let Some(session) = session else {
        return Some(ended());
    };
    let revoked = session.get("revoked").and_then(|v| v.as_bool().ok()) == Some(&true);
    let version = db::get_n(session, "session_version");
    let expired = db::get_n(session, "expires_at").is_some_and(|at| at <= now);
    if revoked || expired || version.is_none() || version != db::get_n(account, "session_version") {
        return Some(ended());
    }
    None
}

/// Refuses `p` unless its account and session are live (see the module docs).
pub async fn check(app: &App, p: &Principal) -> ApiResult<()> {
    if remembered(p) {
        return Ok(());
    }
    let pk = user_pk(&p.user_id);
    let keys = vec![db::key(&pk, ACCOUNT_SK), db::key(&pk, session_sk(&p.session_id))];
    let wanted = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .projection_expression("SK, #status, #role, session_version, revoked, expires_at")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#role", "role")
        .build()
        .map_err(ApiError::internal)?;
    let resp = app.dynamo().batch_get_item().request_items(app.table(), wanted).send().await?;
    if resp.unprocessed_keys.as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(ApiError::internal("the session check was throttled (unprocessed keys)"));
    }
    let items = resp.responses.and_then(|mut r| r.remove(app.table())).unwrap_or_default();
    let find = |sk: &str| items.iter().find(|i| db::get_s(i, db::SK) == Some(sk));
    let session_sk = session_sk(&p.session_id);
    match refusal(p, find(ACCOUNT_SK), find(&session_sk), crate::time::now_secs()) {
        Some(e) => Err(e),
        None => {
            remember(p);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{n, s};
    use crate::token::Role;

    fn principal() -> Principal {
        Principal {
            user_id: "u".into(),
            role: Role::Seeker,
            session_id: "x".into(),
        }
    }
    fn account(status: &str, role: &str, version: i64) -> Item {
        [("status", s(status)), ("role", s(role)), ("session_version", n(version))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
    fn session(version: i64, revoked: bool, expires_at: i64) -> Item {
        [
            ("session_version", n(version)),
            ("revoked", aws_sdk_dynamodb::types::AttributeValue::Bool(revoked)),
            ("expires_at", n(expires_at)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
    fn code(a: Option<&Item>, s: Option<&Item>) -> Option<String> {
        refusal(&principal(), a, s, 100).map(|e| e.code.to_string())
    }

    #[test]
    fn refuses_every_way_a_token_outlives_its_session() {
        let live = session(3, false, 200);
        assert_eq!(code(Some(&account("active", "seeker", 3)), Some(&live)), None);
        assert_eq!(code(None, None).as_deref(), Some("account_deleted"));
        assert_eq!(
            code(Some(&account("suspended", "seeker", 3)), Some(&live)).as_deref(),
            Some("account_suspended")
        );
        assert_eq!(
            code(Some(&account("active", "employer", 3)), Some(&live)).as_deref(),
            Some("role_changed")
        );
        assert_eq!(
            code(Some(&account("active", "seeker", 3)), None).as_deref(),
            Some("session_revoked")
        );
        let stale = session(2, false, 200);
        assert_eq!(
            code(Some(&account("active", "seeker", 3)), Some(&stale)).as_deref(),
            Some("session_revoked")
        );
        let revoked = session(3, true, 200);
        assert_eq!(
            code(Some(&account("active", "seeker", 3)), Some(&revoked)).as_deref(),
            Some("session_revoked")
        );
        let expired = session(3, false, 100);
        assert_eq!(
            code(Some(&account("active", "seeker", 3)), Some(&expired)).as_deref(),
            Some("session_revoked")
        );
    }

    #[test]
    fn forgetting_a_user_drops_only_their_sessions() {
        let me = principal();
        let other = Principal {
            user_id: "v".into(),
            ..principal()
        };
        remember(&me);
        remember(&other);
        assert!(remembered(&me) && remembered(&other));
        forget("u");
        assert!(!remembered(&me));
        assert!(remembered(&other));
    }
}
