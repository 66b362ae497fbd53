//! Analytics items and replies.
//!
//! Counters per job, company and the platform per day are split over [`SHARDS`] items each
//! (`D#<date>#<shard>`): a consumer batch writes one shard it picks at random, readers merge
//! the shards of a day. With distinct-count sketches in them, writes are read-merge-write
//! under a version; shards keep concurrent batches from fighting over one hot item.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Items per job, company and platform day.
pub const SHARDS: u32 = 4;

pub fn job_pk(job_id: &str) -> String {
    format!("AN#JOB#{job_id}")
}
pub fn company_pk(company_id: &str) -> String {
    format!("AN#CO#{company_id}")
}
pub const PLATFORM_PK: &str = "AN#PLATFORM";
pub fn day_sk(date: &str, shard: u32) -> String {
    format!("D#{date}#{shard}")
}
/// Search queries of a day, one item per normalised query.
pub fn queries_pk(date: &str) -> String {
    format!("AN#Q#{date}")
}
/// Categories of a day (views, applications).
pub fn categories_pk(date: &str) -> String {
    format!("AN#CAT#{date}")
}
/// Companies of a day (views, applications), for the top companies.
pub fn companies_pk(date: &str) -> String {
    format!("AN#COD#{date}")
}
/// That a unit of work (a message, or a part of one) was counted.
pub fn done_pk(unit_id: &str) -> String {
    format!("AN#DONE#{unit_id}")
}
pub const DONE_SK: &str = "DONE";
pub const ROLLUP_PK: &str = "AN#ROLLUP";

/// The counters a job, company or platform day holds (attribute names).
pub mod field {
    pub const VIEWS: &str = "views";
    pub const IMPRESSIONS: &str = "impressions";
    pub const APPLY_CLICKS: &str = "apply_clicks";
    pub const APPLICATIONS: &str = "applications";
    pub const SEARCH_CLICKS: &str = "search_clicks";
    pub const COMPANY_VIEWS: &str = "company_views";
    pub const SIGNUPS_SEEKER: &str = "signups_seeker";
    pub const SIGNUPS_EMPLOYER: &str = "signups_employer";
    pub const JOBS_POSTED: &str = "jobs_posted";
    pub const SEARCHES: &str = "searches";
    pub const ZERO_RESULTS: &str = "zero_result_searches";
    pub const CLICKS: &str = "clicks";
    /// The distinct-count sketch (viewers; for the platform, active users).
    pub const SKETCH: &str = "sketch";
    pub const VERSION: &str = "ver";
    pub const QUERY: &str = "query";
    /// A company day's per-job counters: `j#<job>#views`, `j#<job>#applications`.
    pub fn of_job(job_id: &str, counter: &str) -> String {
        format!("j#{job_id}#{counter}")
    }
}

/// One job's or company's figures for a day or a range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub views: u64,
    /// Distinct viewers (approximate: a HyperLogLog sketch, about 1% off).
    pub unique_viewers: u64,
    pub impressions: u64,
    pub apply_clicks: u64,
    pub applications: u64,
    pub search_clicks: u64,
    /// applications / views (0 without views), four decimals.
    pub view_to_apply_rate: f64,
    /// Views of the company page (company figures only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_views: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DailyFigures {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// GET /analytics/jobs/{id}.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobAnalytics {
    pub job_id: String,
    pub from: String,
    pub to: String,
    pub totals: Figures,
    /// Every day of the range, oldest first, zeros included.
    pub daily: Vec<DailyFigures>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopJob {
    pub job_id: String,
    pub title: String,
    pub views: u64,
    pub applications: u64,
}

/// GET /analytics/companies/{id}.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompanyAnalytics {
    pub company_id: String,
    pub from: String,
    pub to: String,
    pub totals: Figures,
    pub daily: Vec<DailyFigures>,
    /// The company's jobs with the most applications (then views) in the range, at most 10.
    pub top_jobs: Vec<TopJob>,
}

/// Platform figures of a day or a week.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlatformFigures {
    pub signups: Signups,
    /// Distinct signed-in users active (approximate, as above).
    pub active_users: u64,
    pub jobs_posted: u64,
    pub applications: u64,
    pub searches: u64,
    pub zero_result_searches: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Signups {
    pub seeker: u64,
    pub employer: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlatformPeriod {
    /// The day (`YYYY-MM-DD`) or ISO week (`YYYY-Www`).
    pub period: String,
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub figures: PlatformFigures,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopSearch {
    /// The normalised query.
    pub query: String,
    pub searches: u64,
    pub clicks: u64,
    /// clicks / searches, four decimals.
    pub click_through_rate: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopZeroResult {
    pub query: String,
    pub searches: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopCategory {
    pub category: String,
    pub applications: u64,
    pub views: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopCompany {
    pub company_id: String,
    pub name: String,
    pub applications: u64,
}

/// impressions -> views -> apply clicks -> applications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Funnel {
    pub impressions: u64,
    pub views: u64,
    pub apply_clicks: u64,
    pub applications: u64,
}

/// The top lists and funnel of some days, from their rollups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tops {
    pub top_searches: Vec<TopSearch>,
    pub top_zero_result_searches: Vec<TopZeroResult>,
    pub top_categories: Vec<TopCategory>,
    pub top_companies: Vec<TopCompany>,
    pub funnel: Funnel,
}

/// GET /admin/analytics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdminAnalytics {
    pub from: String,
    pub to: String,
    /// `day` or `week`.
    pub granularity: String,
    pub totals: PlatformFigures,
    pub periods: Vec<PlatformPeriod>,
    #[serde(flatten)]
    pub tops: Tops,
    /// The last day of the range the daily rollup has covered (top lists and funnel come
    /// from rollups; the days after it count in `periods` and `totals` only).
    pub rolled_up_through: Option<String>,
}

/// Counters by attribute name, merged from shards or days.
pub type Counters = BTreeMap<String, i64>;

/// `part / whole`, four decimals; 0 when `whole` is 0.
pub fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
    }
}
