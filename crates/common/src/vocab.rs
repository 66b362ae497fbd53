//! The platform's published vocabulary: the value types and records that cross domain
//! boundaries in domain events (and API replies), so that [`crate::events::DomainEvent`]
//! can carry them typed. Each is owned by its domain crate, which re-exports it and keeps the
//! rules, storage and handlers; only the shape lives here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::values::{Location, Salary};

// ---- jobs

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Workplace {
    OnSite,
    Remote,
    Hybrid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentType {
    FullTime,
    PartTime,
    Contract,
    Temporary,
    Internship,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceLevel {
    Entry,
    Mid,
    Senior,
    Lead,
    Executive,
}

/// `draft` (members only) -> `published` (open) -> `closed` | `expired` (deadline passed);
/// `suspended` by an admin. Closed and expired jobs stay readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Draft,
    Published,
    Closed,
    Expired,
    Suspended,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Draft => "draft",
            JobStatus::Published => "published",
            JobStatus::Closed => "closed",
            JobStatus::Expired => "expired",
            JobStatus::Suspended => "suspended",
        }
    }
    /// Seen by anyone (drafts and suspended jobs only by the company and admins).
    pub fn is_public(self) -> bool {
        matches!(self, JobStatus::Published | JobStatus::Closed | JobStatus::Expired)
    }
}

// ---- jobs

/// Where a job is: a place with optional coordinates (for geo search), the same shape and
/// rules as every other location.
pub type JobLocation = crate::values::Location;

// ---- jobs

/// Why and by whom a job was suspended (shown to the company and admins).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Moderation {
    pub reason: String,
    /// When; which admin decided is in the audit log, never in replies.
    pub at: String,
}

/// A job as stored and as clients see it (`status` as of the read: a published job past its
/// deadline reads `expired`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub requirements: Option<String>,
    #[serde(default)]
    pub responsibilities: Option<String>,
    #[serde(default)]
    pub benefits: Option<String>,
    pub location: JobLocation,
    pub workplace: Workplace,
    pub employment_type: EmploymentType,
    pub experience_level: ExperienceLevel,
    #[serde(default)]
    pub salary: Option<Salary>,
    /// Category slug.
    pub category: String,
    #[serde(default)]
    pub skills: Vec<String>,
    /// RFC 3339 UTC; applications end then.
    #[serde(default)]
    pub application_deadline: Option<String>,
    #[serde(default)]
    pub featured: bool,
    pub status: JobStatus,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    /// Bumped by every change (optimistic concurrency).
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<Moderation>,
    /// The status before a suspension, restored when it is lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub suspended_from: Option<JobStatus>,
}

impl Job {
    pub fn deadline_secs(&self) -> Option<i64> {
        self.application_deadline
            .as_deref()
            .and_then(crate::time::parse_rfc3339)
            .map(|d| d.timestamp())
    }
    /// The status as of `now_secs`: published past its deadline is expired.
    pub fn status_at(&self, now_secs: i64) -> JobStatus {
        match (self.status, self.deadline_secs()) {
            (JobStatus::Published, Some(d)) if d <= now_secs => JobStatus::Expired,
            (s, _) => s,
        }
    }
    /// Whether the job takes applications now.
    pub fn accepting_applications(&self, now_secs: i64) -> bool {
        self.status_at(now_secs) == JobStatus::Published
    }
}

// ---- companies

/// Company headcount bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CompanySize {
    #[serde(rename = "1-10")]
    S1To10,
    #[serde(rename = "11-50")]
    S11To50,
    #[serde(rename = "51-200")]
    S51To200,
    #[serde(rename = "201-500")]
    S201To500,
    #[serde(rename = "501-1000")]
    S501To1000,
    #[serde(rename = "1001-5000")]
    S1001To5000,
    #[serde(rename = "5001+")]
    S5001Plus,
}

// ---- companies

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Company {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// https URL of the logo image.
    #[serde(default)]
    pub logo: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub size: Option<CompanySize>,
    #[serde(default)]
    pub industry: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Published jobs (kept in the same transaction as every job change).
    #[serde(default)]
    pub open_job_count: i64,
    /// Counts the company's changes, open-job count included (copies elsewhere, such as
    /// search, order by it).
    #[serde(default)]
    pub version: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Owner,
    Member,
}

// ---- categories

/// A category as clients see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub active: bool,
    /// Open jobs in this category, kept current as jobs open and close.
    pub open_job_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

// ---- applications

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    Reviewed,
    Shortlisted,
    Interviewing,
    Offered,
    Hired,
    Rejected,
    Withdrawn,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 8] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::Reviewed,
        ApplicationStatus::Shortlisted,
        ApplicationStatus::Interviewing,
        ApplicationStatus::Offered,
        ApplicationStatus::Hired,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Reviewed => "reviewed",
            ApplicationStatus::Shortlisted => "shortlisted",
            ApplicationStatus::Interviewing => "interviewing",
            ApplicationStatus::Offered => "offered",
            ApplicationStatus::Hired => "hired",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(raw: &str) -> Option<ApplicationStatus> {
        ApplicationStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }
    /// Hired, rejected and withdrawn are final.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Hired | ApplicationStatus::Rejected | ApplicationStatus::Withdrawn
        )
    }
    /// The company's next steps from here (the applicant's only move is withdrawing).
    pub fn company_moves(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus::*;
        match self {
            Submitted => &[Reviewed, Rejected],
            Reviewed => &[Shortlisted, Rejected],
            Shortlisted => &[Interviewing, Rejected],
            Interviewing => &[Offered, Rejected],
            Offered => &[Hired, Rejected],
            Hired | Rejected | Withdrawn => &[],
        }
    }
}

// ---- applications

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InterviewKind {
    Phone,
    Video,
    Onsite,
}

// ---- profiles

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    #[default]
    Private,
}

// ---- jobs

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Spam,
    Fake,
    Offensive,
    Other,
}

// ---- auth

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Suspended,
}

// ---- saved searches

/// How often a saved search's new matches are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertFrequency {
    /// Within a minute of a matching job becoming visible.
    Instant,
    /// A digest at 08:00 UTC.
    Daily,
    /// A digest on Mondays at 08:00 UTC.
    Weekly,
    Off,
}

impl AlertFrequency {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertFrequency::Instant => "instant",
            AlertFrequency::Daily => "daily",
            AlertFrequency::Weekly => "weekly",
            AlertFrequency::Off => "off",
        }
    }
}

/// A seeker's saved job search: the GET /search/jobs parameters as given (validated by the
/// same parser), a name, and how often new matches are sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SavedSearch {
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    #[schema(ignore)]
    pub user_id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub query: serde_json::Map<String, serde_json::Value>,
    pub frequency: AlertFrequency,
    pub created_at: String,
}
