//! In-app notifications: stored per user, newest first, with an unread counter kept in the
//! same transactions as the writes (never by counting items). Kept 90 days: reads check
//! `expires_at`; DynamoDB's TTL only cleans up.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | notification | `USER#<user>` | `NOTIF#<id>` | GSI1 `NOTIFS#<user>` / `<id>` (all); GSI2 `UNREAD#<user>` / `<id>` while unread |
//! | unread counter | `USER#<user>` | `NOTIFSTATS` | `unread` |
//!
//! A notification's id is the id of the event it came from: one event notifies a user once,
//! whatever the redeliveries (the put is conditional on the item being new).

use common::db::{self, n, Keyed};
use common::tx::{Cond, Tx, TxError};
use common::{ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a notification is kept.
pub const KEEP_SECS: i64 = 90 * 24 * 3600;

/// What a notification is about (the kinds preferences will name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    NewApplicant,
    ApplicationStatus,
    Interview,
    JobAlert,
    JobModeration,
    JobExpiring,
    AccountSecurity,
}

impl Kind {
    /// The kind as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NewApplicant => "new_applicant",
            Kind::ApplicationStatus => "application_status",
            Kind::Interview => "interview",
            Kind::JobAlert => "job_alert",
            Kind::JobModeration => "job_moderation",
            Kind::JobExpiring => "job_expiring",
            Kind::AccountSecurity => "account_security",
        }
    }

    /// The kind an API name stands for.
    pub fn parse(name: &str) -> Option<Kind> {
        crate::preferences::KINDS.into_iter().find(|k| k.as_str() == name)
    }

    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            Kind::NewApplicant => "new applicant",
            Kind::ApplicationStatus => "application status",
            Kind::Interview => "interview",
            Kind::JobAlert => "job alert",
            Kind::JobModeration => "job moderation",
            Kind::JobExpiring => "expiring job",
            Kind::AccountSecurity => "account security",
        }
    }
}

/// A notification as its recipient reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    /// What to open from the notification; which fields are given depends on `kind`.
    pub data: NotificationData,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// The ids (and a few facts) a client needs to open what a notification is about. Only the
/// fields of its kind are given: an application's three ids, with the new `status` or the
/// interview's; a job alert's saved search and jobs; a job's and company's ids, with the
/// `deadline` of an expiring job. Account-security notices carry none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// The application's new status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<common::vocab::ApplicationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interview_id: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_search_id: Option<String>,
    /// The new matches of a job alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_ids: Option<Vec<String>>,
    /// RFC 3339: when an expiring job stops taking applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    #[serde(flatten)]
    pub(crate) notification: Notification,
    pub(crate) user_id: String,
    pub(crate) expires_at: i64,
    pub(crate) ttl: i64,
}

pub(crate) type Item = Keyed<Stored>;

pub(crate) fn sk(id: &str) -> String {
    format!("NOTIF#{id}")
}
pub(crate) fn all_of(user_id: &str) -> String {
    format!("NOTIFS#{user_id}")
}
pub(crate) fn unread_of(user_id: &str) -> String {
    format!("UNREAD#{user_id}")
}
pub(crate) fn key(user_id: &str, id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), sk(id))
}
const COUNTER_SK: &str = "NOTIFSTATS";
pub(crate) fn counter_key(user_id: &str) -> db::Item {
    db::key(auth::account::partition(user_id), COUNTER_SK)
}

pub(crate) fn item(user_id: &str, n: &Notification, now_secs: i64) -> Item {
    let stored = Stored {
        notification: n.clone(),
        user_id: user_id.to_string(),
        expires_at: now_secs + KEEP_SECS,
        ttl: now_secs + KEEP_SECS + 86_400,
    };
    Keyed::new(auth::account::partition(user_id), sk(&n.id), "notification", stored)
        .in_index(1, all_of(user_id), n.id.clone())
        .in_index_if(n.read_at.is_none(), 2, unread_of(user_id), n.id.clone())
}

/// Stores `n` for `user_id` unless that user already has it (same event): the item and the
/// unread counter in one transaction. `true` when it was new.
pub async fn deliver(app: &App, user_id: &str, n: &Notification) -> ApiResult<bool> {
    let tx = Tx::new(app)
        .put_new("notification", &item(user_id, n, common::time::now_secs()))
        .update("unread", counter_key(user_id), Cond::add("unread", 1), None);
    match tx.commit().await {
        Err(TxError::Condition { part: "notification", .. }) => Ok(false),
        other => {
            other?;
            Ok(true)
        }
    }
}

/// For a recipient who wants no in-app copy: records that the event reached them (so other
/// channels go out once), with the notification's lifetime. `true` when it was new.
pub async fn mark_sent(app: &App, user_id: &str, id: &str) -> ApiResult<bool> {
    let now = common::time::now_secs();
    let mut marker = db::key(auth::account::partition(user_id), format!("SENT#{id}"));
    marker.insert("entity".into(), db::s("notification_sent"));
    marker.insert(db::TTL.into(), db::n(now + KEEP_SECS));
    match Tx::new(app).put_item("sent", marker, Some(Cond::absent())).commit().await {
        Err(TxError::Condition { .. }) => Ok(false),
        other => {
            other?;
            Ok(true)
        }
    }
}

/// The unread count (the counter, never below zero).
pub async fn unread_count(app: &App, user_id: &str) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct Counter {
        #[serde(default)]
        unread: i64,
    }
    let counter = db::get::<Counter>(app, auth::account::partition(user_id), COUNTER_SK).await?;
    Ok(counter.map_or(0, |c| c.unread).max(0))
}

/// Marks one notification read: the item leaves the unread index and the counter drops, in
/// one transaction; a notification already read stays as it is. `None` when there is none.
pub async fn mark_read(tx: Tx<'_>, user_id: &str, id: &str, now: &str) -> ApiResult<Option<bool>> {
    // Unread is "in the unread index" (`read_at` is stored as null until then).
    let unread = Cond::new("attribute_exists(GSI2PK) AND expires_at > :now").value(":now", n(common::time::now_secs()));
    let tx = tx
        .update(
            "notification",
            key(user_id, id),
            Cond::new("SET read_at = :at REMOVE GSI2PK, GSI2SK").value(":at", db::s(now)),
            Some(unread),
        )
        .returning_item()
        .update("unread", counter_key(user_id), Cond::add("unread", -1), None);
    match tx.commit().await {
        Err(TxError::Condition {
            part: "notification",
            item,
        }) => {
            let live = item
                .as_ref()
                .and_then(|i| db::get_n(i, "expires_at"))
                .is_some_and(|e| e > common::time::now_secs());
            Ok(live.then_some(false))
        }
        other => {
            other?;
            Ok(Some(true))
        }
    }
}

/// The ids of every unread notification of a user.
pub async fn unread_ids(app: &App, user_id: &str) -> ApiResult<Vec<String>> {
    Ok(db::query_all(app, Some("GSI2"), unread_of(user_id), None)
        .await?
        .iter()
        .filter_map(|i| db::get_s(i, "id").map(str::to_string))
        .collect())
}

/// Everything a user's notifications hold (export).
pub async fn export(app: &App, user_id: &str) -> ApiResult<Vec<Notification>> {
    let now = common::time::now_secs();
    db::query_all(app, Some("GSI1"), all_of(user_id), None)
        .await?
        .into_iter()
        .map(db::from_item::<Item>)
        .filter(|i| i.as_ref().map_or(true, |i| i.value.expires_at > now))
        .map(|i| i.map(|i| i.value.notification))
        .collect()
}
