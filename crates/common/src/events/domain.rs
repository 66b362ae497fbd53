//! Every domain event, typed: one [`DomainEvent`] variant per type of docs/events.md, each
//! with its payload struct and version. Producers build variants ([`crate::tx::Tx::emit`]);
//! consumers get them decoded ([`crate::consumer`]) and match on them. On the wire the
//! variant is the envelope's `type` and its payload the envelope's `data`, unchanged, so SNS
//! filter policies on `type` keep working.

use serde::{Deserialize, Serialize};

use crate::token::Role;
use crate::vocab::{
    AccountStatus, AlertFrequency, ApplicationStatus, Category, Company, InterviewKind, Job, JobStatus, MemberRole, ReportReason,
    SavedSearch, Visibility,
};

/// Declares the enum, its wire names and versions from one list.
macro_rules! domain_events {
    ($($name:literal, v $version:literal => $variant:ident($payload:ty),)*) => {
        /// A domain event: `type` and `data` of the envelope.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum DomainEvent {
            $(#[serde(rename = $name)] $variant($payload),)*
        }

        impl DomainEvent {
            /// Every type with the version this code produces and understands.
            pub const TYPES: &'static [(&'static str, u32)] = &[$(($name, $version)),*];

            /// The wire name (`type`).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => $name,)*
                }
            }

            /// The payload version of this type.
            pub fn version(&self) -> u32 {
                match self {
                    $(DomainEvent::$variant(_) => $version,)*
                }
            }
        }
    };
}

domain_events! {
    "user.registered", v 1 => UserRegistered(UserRegistered),
    "user.password_changed", v 1 => PasswordChanged(UserNotice),
    "user.password_reset", v 1 => PasswordReset(UserNotice),
    "user.password_reset_requested", v 1 => PasswordResetRequested(CodeRequested),
    "user.verification_requested", v 1 => VerificationRequested(CodeRequested),
    "user.updated", v 1 => UserUpdated(UserUpdated),
    "user.suspended", v 1 => UserSuspended(AccountChanged),
    "user.reinstated", v 1 => UserReinstated(AccountChanged),
    "user.role_changed", v 1 => UserRoleChanged(AccountChanged),
    "user.deleted", v 1 => UserDeleted(UserDeleted),
    "company.created", v 1 => CompanyCreated(CompanyChanged),
    "company.updated", v 1 => CompanyUpdated(CompanyChanged),
    "company.member_invited", v 1 => CompanyMemberInvited(MemberInvited),
    "company.member_added", v 1 => CompanyMemberAdded(MemberAdded),
    "company.member_removed", v 1 => CompanyMemberRemoved(MemberRemoved),
    "job.created", v 1 => JobCreated(JobChanged),
    "job.updated", v 1 => JobUpdated(JobChanged),
    "job.closed", v 1 => JobClosed(JobChanged),
    "job.expired", v 1 => JobExpired(JobChanged),
    "job.reported", v 1 => JobReported(JobReported),
    "job.suspended", v 1 => JobSuspended(JobChanged),
    "job.restored", v 1 => JobRestored(JobChanged),
    "application.submitted", v 1 => ApplicationSubmitted(ApplicationRef),
    "application.status_changed", v 1 => ApplicationStatusChanged(ApplicationMoved),
    "application.withdrawn", v 1 => ApplicationWithdrawn(ApplicationMoved),
    "interview.scheduled", v 1 => InterviewScheduled(InterviewChanged),
    "interview.rescheduled", v 1 => InterviewRescheduled(InterviewChanged),
    "interview.cancelled", v 1 => InterviewCancelled(InterviewChanged),
    "interview.completed", v 1 => InterviewCompleted(InterviewChanged),
    "category.created", v 1 => CategoryCreated(CategoryChanged),
    "category.updated", v 1 => CategoryUpdated(CategoryChanged),
    "category.deactivated", v 1 => CategoryDeactivated(CategoryChanged),
    "saved_search.created", v 1 => SavedSearchCreated(SavedSearchChanged),
    "saved_search.updated", v 1 => SavedSearchUpdated(SavedSearchChanged),
    "saved_search.deleted", v 1 => SavedSearchDeleted(SavedSearchRef),
    "saved_search.matched", v 1 => SavedSearchMatched(SavedSearchMatched),
}

/// Why a consumer cannot take an envelope as a [`DomainEvent`].
#[derive(Debug, PartialEq)]
pub enum Undecodable {
    /// A type this code does not know (not in [`DomainEvent::TYPES`]).
    UnknownType(String),
    /// A known type in a newer version than this code understands (a producer deployed
    /// before this consumer).
    NewerVersion { kind: String, version: u32 },
    /// A known type whose `data` does not have its shape (a bug: never acknowledged).
    Malformed(String),
}

impl DomainEvent {
    /// Decodes `data` of an envelope of type `kind` in `version`.
    pub fn decode(kind: &str, version: u32, data: &serde_json::Value) -> Result<DomainEvent, Undecodable> {
        let Some(&(_, current)) = DomainEvent::TYPES.iter().find(|(k, _)| *k == kind) else {
            return Err(Undecodable::UnknownType(kind.to_string()));
        };
        if version > current {
            return Err(Undecodable::NewerVersion {
                kind: kind.to_string(),
                version,
            });
        }
        serde_json::from_value(serde_json::json!({"type": kind, "data": data})).map_err(|e| Undecodable::Malformed(e.to_string()))
    }

    /// The payload as the envelope's `data`.
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => m.remove("data").unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }
}

/// `user.registered`: never secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub full_name: String,
}

/// `user.password_changed`, `user.password_reset`: who to tell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserNotice {
    pub user_id: String,
    pub email: String,
}

/// `user.password_reset_requested`, `user.verification_requested`: an address someone typed
/// (there may be no account). The consumer issues and mails the code; the request only
/// records the ask, the same way for every address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeRequested {
    pub email: String,
}

/// `user.updated`: which profile fields changed (names, never values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub user_id: String,
    pub changed: Vec<String>,
    pub visibility: Visibility,
    pub available_for_hire: bool,
}

/// `user.suspended`, `user.reinstated`, `user.role_changed`: the account after the change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountChanged {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub status: AccountStatus,
    pub reason: Option<String>,
}

/// `user.deleted`: nothing else, the data is gone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDeleted {
    pub user_id: String,
    pub role: Role,
    pub by_admin: bool,
}

/// `company.created`, `company.updated`: the company after the change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyChanged {
    pub company: Company,
}

/// `company.member_added`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberAdded {
    pub company_id: String,
    pub user_id: String,
    pub role: MemberRole,
}

/// `company.member_invited`: an owner invited an address (there may be no account).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInvited {
    pub invitation_id: String,
    pub company_id: String,
    pub company_name: String,
    pub email: String,
    pub role: MemberRole,
}

/// `company.member_removed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberRemoved {
    pub company_id: String,
    pub user_id: String,
}

/// Every `job.*` change but reports: the job after it (stored status), the status before
/// (none for `job.created`) and a moderator's reason (suspensions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobChanged {
    pub job: Job,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<JobStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `job.reported`: never the reporter or their text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobReported {
    pub job_id: String,
    pub company_id: String,
    pub reason: ReportReason,
}

/// Which application an event is about (`application.submitted` is just this).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplicationRef {
    pub application_id: String,
    pub job_id: String,
    pub company_id: String,
    pub seeker_id: String,
    pub job_title: String,
}

/// `application.status_changed`, `application.withdrawn` (never the company's note).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplicationMoved {
    #[serde(flatten)]
    pub application: ApplicationRef,
    pub from: ApplicationStatus,
    pub to: ApplicationStatus,
}

/// `interview.*`: time and place (never feedback or rating).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterviewChanged {
    #[serde(flatten)]
    pub application: ApplicationRef,
    pub interview_id: String,
    pub scheduled_at: String,
    pub duration_minutes: u32,
    pub kind: InterviewKind,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
}

/// `category.*`: the category after the change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryChanged {
    pub category: Category,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSearchChanged {
    pub saved_search: SavedSearch,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSearchRef {
    pub saved_search_id: String,
    pub user_id: String,
}

/// New jobs for a saved search: one job (instant) or a digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSearchMatched {
    pub saved_search_id: String,
    pub user_id: String,
    pub name: String,
    pub frequency: AlertFrequency,
    pub jobs: Vec<MatchedJob>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchedJob {
    pub job_id: String,
    pub title: String,
    pub company_name: String,
    pub city: String,
    pub country: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_newer_and_malformed_events_are_told_apart() {
        let notice = serde_json::json!({"user_id": "u", "email": "a@b.co"});
        assert!(matches!(
            DomainEvent::decode("user.password_reset", 1, &notice),
            Ok(DomainEvent::PasswordReset(UserNotice { .. }))
        ));
        assert_eq!(
            DomainEvent::decode("user.exploded", 1, &notice),
            Err(Undecodable::UnknownType("user.exploded".into()))
        );
        assert!(matches!(
            DomainEvent::decode("user.password_reset", 2, &notice),
            Err(Undecodable::NewerVersion { version: 2, .. })
        ));
        assert!(matches!(
            DomainEvent::decode("user.password_reset", 1, &serde_json::json!({"user_id": 5})),
            Err(Undecodable::Malformed(_))
        ));
    }

    #[test]
    fn data_is_the_payload_alone() {
        let e = DomainEvent::PasswordChanged(UserNotice {
            user_id: "u".into(),
            email: "a@b.co".into(),
        });
        assert_eq!(e.kind(), "user.password_changed");
        assert_eq!(e.data(), serde_json::json!({"user_id": "u", "email": "a@b.co"}));
        assert_eq!(DomainEvent::decode(e.kind(), e.version(), &e.data()).unwrap(), e);
    }
}
