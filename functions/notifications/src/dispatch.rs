//! One notification to one recipient on every channel they chose: in-app (stored once per
//! event) and live to their open connections, push to their devices, email. In-app, live and
//! push happen on the first delivery only; email has its own sent marker. So a retry after a
//! failed channel repeats none of the ones that succeeded.

use common::events::SavedSearchMatched;
use common::App;

use crate::inbox::{self, Kind, Notification};
use crate::preferences::{self, Channel};
use crate::{devices, email, live};

/// An internal error as the consumer and schedules report it.
pub fn failed(e: common::ApiError) -> String {
    format!("{}: {:?}", e.message, e.source)
}

/// Delivers `n` to `user_id` (`alert`: the saved-search match a job alert came from).
/// `Ok(true)` when this was the first delivery; `Err` when the email must be retried.
pub async fn notify(app: &App, user_id: &str, n: &Notification, alert: Option<&SavedSearchMatched>) -> Result<bool, String> {
    let prefs = preferences::of(app, user_id).await.map_err(failed)?;
    let in_app = prefs.allows(n.kind, Channel::InApp);
    let first = if in_app {
        inbox::deliver(app, user_id, n).await
    } else {
        inbox::mark_sent(app, user_id, &n.id).await
    }
    .map_err(failed)?;
    if first {
        if in_app {
            live::send(app, user_id, n).await;
        }
        if prefs.allows(n.kind, Channel::Push) {
            devices::push(app, user_id, n).await;
        }
    }
    if prefs.allows(n.kind, Channel::Email) {
        send_email(app, user_id, n, alert).await?;
    }
    Ok(first)
}

/// The email of `n`, once: to an active account (account-security notices to any account
/// that still exists).
async fn send_email(app: &App, user_id: &str, n: &Notification, alert: Option<&SavedSearchMatched>) -> Result<(), String> {
    if email::already_sent(app, user_id, &n.id).await.map_err(failed)? {
        return Ok(());
    }
    let Some(who) = auth::account::summary(app, user_id).await.map_err(failed)? else {
        return Ok(());
    };
    if !who.is_active() && n.kind != Kind::AccountSecurity {
        return Ok(());
    }
    email::send_and_record(app, user_id, &n.id, &email::compose(app, alert, &who, n)?).await
}
