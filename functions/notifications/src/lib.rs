//! Notifications: every event a person cares about becomes one notification per recipient
//! ([`recipients`]) delivered on the channels they chose ([`preferences`], [`dispatch`]):
//! in-app ([`inbox`], routes in [`handlers`]), live over the WebSocket API ([`live`]), push
//! through SNS platform endpoints ([`devices`]) and email from template files ([`email`],
//! one-click [`unsubscribe`]). Two schedules add what no event says: jobs about to close
//! ([`expiring`]) and interviews about to start ([`reminders`]).

pub mod codes;
pub mod devices;
pub mod dispatch;
pub mod email;
pub mod expiring;
pub mod handlers;
pub mod inbox;
pub mod live;
pub mod preferences;
pub mod recipients;
pub mod reminders;
pub mod unsubscribe;

use std::future::Future;
use std::pin::Pin;

use common::consumer::Delivery;
use common::events::DomainEvent;
use common::App;

/// The consumer's name; scopes its dedupe records.
pub const CONSUMER: &str = "notifications";

/// The event types the notifications consumer acts on: codes by email, in-app notices and
/// their channels.
/// Every variant is named (no wildcard), so a new event type is a decision here; the
/// subscription's SNS filter policy in template.yaml is checked against this (tests/it/
/// consumers.rs), and the consumer acknowledges anything else untouched.
pub fn receives(event: &common::events::DomainEvent) -> bool {
    use common::events::DomainEvent::*;
    match event {
        UserRegistered(_)
        | PasswordChanged(_)
        | PasswordReset(_)
        | PasswordResetRequested(_)
        | VerificationRequested(_)
        | UserSuspended(_)
        | UserRoleChanged(_)
        | CompanyMemberInvited(_)
        | JobSuspended(_)
        | JobRestored(_)
        | ApplicationSubmitted(_)
        | ApplicationStatusChanged(_)
        | ApplicationWithdrawn(_)
        | InterviewScheduled(_)
        | InterviewRescheduled(_)
        | InterviewCancelled(_)
        | SavedSearchMatched(_) => true,
        UserUpdated(_)
        | UserReinstated(_)
        | UserDeleted(_)
        | CompanyCreated(_)
        | CompanyUpdated(_)
        | CompanyMemberAdded(_)
        | CompanyMemberRemoved(_)
        | JobCreated(_)
        | JobUpdated(_)
        | JobClosed(_)
        | JobExpired(_)
        | JobReported(_)
        | InterviewCompleted(_)
        | CategoryCreated(_)
        | CategoryUpdated(_)
        | CategoryDeactivated(_)
        | SavedSearchCreated(_)
        | SavedSearchUpdated(_)
        | SavedSearchDeleted(_) => false,
    }
}

/// The consumer: each recipient gets the event's notification on their channels; a
/// recipient whose email failed does not stop the others, and the event is retried (what
/// succeeded is not repeated). Codes go out by email too ([`codes`]).
pub async fn handle(app: &'static App, delivery: Delivery) -> Result<(), String> {
    if !receives(&delivery.event) {
        return Ok(());
    }
    let alert = match &delivery.event {
        DomainEvent::SavedSearchMatched(m) => Some(m),
        _ => None,
    };
    let planned = recipients::plan(app, &delivery)
        .await
        .map_err(|e| format!("{}: {:?}", e.message, e.source))?;
    let mut failure = None;
    for p in &planned {
        if let Err(e) = dispatch::notify(app, &p.user_id, &p.notification, alert).await {
            tracing::warn!(error = %e, user_id = %p.user_id, "a notification failed; the event will be retried");
            failure.get_or_insert(e);
        }
    }
    // Emails with codes: the welcome email (verification code), reset and new verification
    // codes someone asked for.
    let coded = match &delivery.event {
        DomainEvent::UserRegistered(u) => codes::welcome(app, &delivery.id, u).await,
        DomainEvent::PasswordResetRequested(r) => codes::requested(app, &delivery.id, &r.email, auth::codes::Purpose::PasswordReset).await,
        DomainEvent::VerificationRequested(r) => {
            codes::requested(app, &delivery.id, &r.email, auth::codes::Purpose::EmailVerification).await
        }
        DomainEvent::CompanyMemberInvited(i) => codes::invitation(app, &delivery.id, i).await,
        _ => Ok(()),
    };
    if let Err(e) = coded {
        failure.get_or_insert(e);
    }
    failure.map_or(Ok(()), Err)
}

/// The consumer as the runtime and the local gateway call it.
pub fn handler(app: &'static App, delivery: Delivery) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(handle(app, delivery))
}

/// What the scheduled notices touch: recipients, preferences and their own records, push
/// endpoints, mail (its unsubscribe links are sealed with the signing keys) and live
/// connections. The consumer does the same and checks conditions in its transactions.
const DELIVERS: common::access::Access = {
    use common::access::{table, Db::*, Push::Publish};
    table(&[Get, Query, Put, Update, Delete])
        .indexes()
        .signing_keys()
        .push(&[Publish])
        .mail()
        .live()
};

common::functions! {
    openapi(tags((name = "notifications", description = "Notifications of the caller: in-app, preferences, push devices, unsubscribe links")));
    http {
        "notifications-list" => handlers::list: table(&[Query]).indexes(),
        "notifications-unread-count" => handlers::unread_count: table(&[Get]).indexes(),
        "notifications-read" => handlers::read: table(&[Update, ConditionCheck]).indexes(),
        "notifications-read-all" => handlers::read_all: table(&[Get, Query, Update, ConditionCheck]).indexes(),
        "notifications-preferences-get" => preferences::get: table(&[Get]),
        "notifications-preferences-put" => preferences::put: table(&[Put, ConditionCheck]),
        "notifications-devices-register" => devices::register: table(&[Get, Put, Update, Delete, ConditionCheck]).push(&[CreateEndpoint, SetEndpointAttributes]),
        "notifications-devices-unregister" => devices::unregister: table(&[Get, Put, Update, Delete, ConditionCheck]).push(&[DeleteEndpoint]),
        "unsubscribe-get" => unsubscribe::by_link: table(&[Get, Put]).indexes(),
        "unsubscribe-post" => unsubscribe::one_click: table(&[Get, Put]).indexes(),
    }
    other {
        "notifications-consumer" => Consumer(CONSUMER, handler): table(&[Get, Query, Put, Update, Delete, ConditionCheck])
            .indexes()
            .signing_keys()
            .push(&[Publish])
            .mail()
            .live()
            .on(Queues(&[queue("NotificationsQueue", 10)])),
        "notifications-expiring" => Scheduled(expiring::handler): DELIVERS.on(Schedule(
            "rate(1 hour)",
            "Warns company members three days before a job's deadline (once per job and deadline)",
        )),
        "notifications-reminders" => Scheduled(reminders::handler): DELIVERS.on(Schedule(
            "rate(15 minutes)",
            "Reminds applicant and interviewer of interviews within 24 hours (once per interview and time)",
        )),
        // `$connect` checks the token and its session, then stores the connection.
        "live-connect" => WebSocket(live::connect): table(&[Put, ConditionCheck]).signing_keys().session_check().on(WebSocket),
        "live-disconnect" => WebSocket(live::disconnect): table(&[Get, Delete]).on(WebSocket),
    }
}
