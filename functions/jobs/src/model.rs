//! Jobs as readers see them: what the jobs domain adds to the published record.

use crate::rules::JobStatus;
use crate::Job;
use serde::Serialize;
use utoipa::ToSchema;

/// What the jobs domain adds to the published job record.
pub trait JobRules {
    /// Counted in its category's `open_job_count` (the stored status, which the schedule
    /// moves to expired).
    fn counted(&self) -> bool;
    /// The job as a reader sees it now.
    fn view(self, now_secs: i64) -> JobView;
}

impl JobRules for Job {
    fn counted(&self) -> bool {
        self.status == JobStatus::Published
    }
    fn view(mut self, now_secs: i64) -> JobView {
        self.status = self.status_at(now_secs);
        let accepting = self.status == JobStatus::Published;
        self.suspended_from = None;
        JobView {
            job: self,
            accepting_applications: accepting,
        }
    }
}

/// A job with what follows from the time of reading.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    /// False for drafts, closed, expired (deadline passed) and suspended jobs.
    pub accepting_applications: bool,
}
