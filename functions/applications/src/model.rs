//! Applications: what an application, its history and its counts are, as stored and as
//! clients see them.

use crate::rules::Status;
use common::events::ApplicationRef;
use common::values::Location;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A snapshot of the resume the application was sent with (a copy of the file, so a new
/// upload or an erased profile does not change what the company received).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResumeRef {
    pub content_type: String,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub key: String,
}

/// The applicant as the company sees them, as of applying.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApplicantSummary {
    pub user_id: String,
    pub full_name: String,
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub job_id: String,
    pub company_id: String,
    /// The job's title when the application was sent.
    pub job_title: String,
    pub cover_letter: String,
    #[serde(default)]
    pub resume: Option<ResumeRef>,
    pub applicant: ApplicantSummary,
    pub status: Status,
    /// Bumped by every change (optimistic concurrency).
    pub version: u64,
    pub submitted_at: String,
    pub updated_at: String,
}

impl Application {
    /// Which application events about it name.
    pub fn event_ref(&self) -> ApplicationRef {
        ApplicationRef {
            application_id: self.id.clone(),
            job_id: self.job_id.clone(),
            company_id: self.company_id.clone(),
            seeker_id: self.applicant.user_id.clone(),
            job_title: self.job_title.clone(),
        }
    }
}

/// How the caller relates to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Applicant,
    /// A member of the job's company (or an admin, read only).
    Company,
}

/// A status history entry: who moved it, when, from and to; `note` is the company's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    #[serde(default)]
    pub from: Option<Status>,
    pub to: Status,
    /// Who moved it; left out of what the applicant reads when it was the company.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor_id: String,
    /// `applicant` or `company`.
    pub by: String,
    /// Internal to the company: never shown to the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl HistoryEntry {
    /// What the applicant reads: no company note, no employee id (the move says `company`).
    pub fn hide_company_side(&mut self) {
        self.note = None;
        if self.by != "applicant" {
            self.actor_id.clear();
        }
    }
}

/// An application as its reader sees it, with a short-lived link to the resume sent.
#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    #[serde(flatten)]
    pub application: Application,
    /// Download link of the resume sent (5 minutes).
    pub resume_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<Application>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryEntry>,
}

/// Applications counted by status.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
pub struct JobCounts {
    pub total: i64,
    /// Jobs by status as readers see it (`expired` included).
    pub by_status: BTreeMap<String, i64>,
}

/// GET /me/stats
#[derive(Serialize, ToSchema)]
pub struct Stats {
    /// Seekers: their applications by status.
    pub applications: Option<StatusCounts>,
    /// Employers: their company's jobs by status.
    pub jobs: Option<JobCounts>,
    /// Employers: applicants to their company's jobs by status.
    pub applicants: Option<StatusCounts>,
}
