//! Notification preferences: per channel (in_app, email, push) and per kind, over sensible
//! defaults. A channel off globally wins over a kind; account-security email cannot be
//! turned off (422).
//!
//! Item: `USER#<user>` / `NOTIFPREFS`, the user's choices as given (defaults fill the rest).

use std::collections::BTreeMap;

use common::api_doc::ErrorBody;
use common::db::{self, Keyed};
use common::http::{authenticate, ok, parse_json, Request, Response};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::inbox::Kind;

/// One switch per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
    pub push: bool,
}

impl Channels {
    const ALL: Channels = Channels {
        in_app: true,
        email: true,
        push: true,
    };
}

/// Every kind's channels, and the channels themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    #[serde(deserialize_with = "common::values::object")]
    pub channels: Channels,
    /// By kind: new_applicant, application_status, interview, job_alert, job_moderation,
    /// job_expiring, account_security. Kinds left out keep their defaults.
    #[serde(deserialize_with = "common::values::object_values")]
    pub kinds: BTreeMap<Kind, Channels>,
}

pub const KINDS: [Kind; 7] = [
    Kind::NewApplicant,
    Kind::ApplicationStatus,
    Kind::Interview,
    Kind::JobAlert,
    Kind::JobModeration,
    Kind::JobExpiring,
    Kind::AccountSecurity,
];

/// The defaults: new applicants in-app and by email; application moves, interviews and job
/// alerts everywhere (a saved search's own frequency says how often); moderation and
/// expiring jobs in-app and by email; account security everywhere.
pub fn default_for(kind: Kind) -> Channels {
    let in_app_and_email = Channels {
        in_app: true,
        email: true,
        push: false,
    };
    match kind {
        Kind::NewApplicant | Kind::JobModeration | Kind::JobExpiring => in_app_and_email,
        Kind::ApplicationStatus | Kind::Interview | Kind::JobAlert | Kind::AccountSecurity => Channels::ALL,
    }
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            channels: Channels::ALL,
            kinds: KINDS.iter().map(|k| (*k, default_for(*k))).collect(),
        }
    }
}

/// A channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    InApp,
    Email,
    Push,
}

impl Preferences {
    /// Whether `kind` reaches the user on `channel`: account-security email always does;
    /// otherwise the channel must be on globally and for the kind.
    pub fn allows(&self, kind: Kind, channel: Channel) -> bool {
        if kind == Kind::AccountSecurity && channel == Channel::Email {
            return true;
        }
        let pick = |c: &Channels| match channel {
            Channel::InApp => c.in_app,
            Channel::Email => c.email,
            Channel::Push => c.push,
        };
        pick(&self.channels) && pick(self.kinds.get(&kind).unwrap_or(&default_for(kind)))
    }

    /// The given kinds over the defaults.
    fn completed(mut self) -> Self {
        for k in KINDS {
            self.kinds.entry(k).or_insert_with(|| default_for(k));
        }
        self
    }
}

type Item = Keyed<Preferences>;

const SK: &str = "NOTIFPREFS";

/// A user's preferences (the defaults until they choose).
pub async fn of(app: &App, user_id: &str) -> ApiResult<Preferences> {
    Ok(db::get::<Item>(app, auth::account::partition(user_id), SK)
        .await?
        .map(|i| i.value.completed())
        .unwrap_or_default())
}

/// Turns `kind`'s email off for `user_id` (an unsubscribe link); `false` when the account
/// is gone.
pub async fn email_off(app: &App, user_id: &str, kind: Kind) -> ApiResult<bool> {
    if auth::account::summary(app, user_id).await?.is_none() {
        return Ok(false);
    }
    let mut prefs = of(app, user_id).await?;
    prefs.kinds.entry(kind).or_insert_with(|| default_for(kind)).email = false;
    let item = Keyed::new(auth::account::partition(user_id), SK, "notification_preferences", prefs);
    common::tx::Tx::new(app).put("preferences", &item).commit().await?;
    Ok(true)
}

/// GET /me/notification-preferences
#[utoipa::path(get, path = "/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "every channel and kind, defaults filled in", body = Preferences), (status = 401, body = ErrorBody)))]
pub async fn get(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    ok(&of(app, &me.user_id).await?)
}

/// PUT /me/notification-preferences
#[utoipa::path(put, path = "/me/notification-preferences", tag = "notifications", security(("bearer" = [])), request_body = Preferences,
    responses((status = 200, description = "saved; every channel and kind", body = Preferences), (status = 401, body = ErrorBody),
        (status = 422, description = "`account_security` email cannot be turned off; unknown kinds or fields", body = ErrorBody)))]
pub async fn put(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let chosen: Preferences = parse_json(&req)?;
    if chosen.kinds.get(&Kind::AccountSecurity).is_some_and(|c| !c.email) {
        return Err(ApiError::invalid_field(
            "kinds.account_security.email",
            "security notices are always emailed",
        ));
    }
    let prefs = chosen.completed();
    let item = Keyed::new(auth::account::partition(&me.user_id), SK, "notification_preferences", prefs.clone());
    auth::account::writes_by(app, &me).put("preferences", &item).commit().await?;
    ok(&prefs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_off_globally_wins_but_security_email_stays() {
        let mut p = Preferences::default();
        assert!(p.allows(Kind::NewApplicant, Channel::Email) && !p.allows(Kind::NewApplicant, Channel::Push));
        p.channels.email = false;
        assert!(!p.allows(Kind::ApplicationStatus, Channel::Email));
        assert!(p.allows(Kind::AccountSecurity, Channel::Email), "always");
        p.kinds.insert(
            Kind::Interview,
            Channels {
                in_app: false,
                email: true,
                push: true,
            },
        );
        assert!(!p.allows(Kind::Interview, Channel::InApp) && p.allows(Kind::Interview, Channel::Push));
    }

    #[test]
    fn partial_kinds_keep_their_defaults() {
        let p: Preferences = serde_json::from_value(serde_json::json!({
            "channels": {"in_app": true, "email": true, "push": false},
            "kinds": {"job_alert": {"in_app": false, "email": true, "push": false}}
        }))
        .unwrap();
        let p = p.completed();
        assert_eq!(p.kinds.len(), 7);
        assert_eq!(p.kinds[&Kind::NewApplicant], default_for(Kind::NewApplicant));
        assert!(serde_json::from_value::<Preferences>(serde_json::json!({"channels": {"in_app": true}, "kinds": {}})).is_err());
        assert!(serde_json::from_value::<Preferences>(serde_json::json!({
            "channels": {"in_app": true, "email": true, "push": true}, "kinds": {"gossip": {"in_app": true, "email": true, "push": true}}
        }))
        .is_err());
    }
}
