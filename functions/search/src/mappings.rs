//! The indexes and their mappings: kept in code, created idempotently before first
//! use ([`crate::engine::ensure_index`]). Synonyms are not an analyzer setting: the local
//! stand-in ignores synonym filters, so they are expanded at query time ([`crate::synonyms`]).

use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// Open jobs: published, not past the deadline, not closed, expired or suspended.
    Jobs,
    /// Every company, with its open-job count.
    Companies,
    /// Seekers whose profile is public and available for hire, on an active account.
    Candidates,
    /// Saved searches with alerts on, as reverse filters for matching new jobs.
    SavedSearches,
}

pub const ALL: [IndexKind; 4] = [
    IndexKind::Jobs,
    IndexKind::Companies,
    IndexKind::Candidates,
    IndexKind::SavedSearches,
];

fn keyword() -> Value {
    json!({"type": "keyword"})
}
fn text() -> Value {
    json!({"type": "text"})
}

impl IndexKind {
    pub fn suffix(self) -> &'static str {
        match self {
            IndexKind::Jobs => "jobs",
            IndexKind::Companies => "companies",
            IndexKind::Candidates => "candidates",
            IndexKind::SavedSearches => "saved-searches",
        }
    }

    /// Settings and mappings of the index.
    pub fn definition(self) -> Value {
        let properties = match self {
            IndexKind::Jobs => json!({
                "id": keyword(), "title": text(), "title_key": keyword(), "title_suggest": {"type": "search_as_you_type"},
                "description": text(), "skills": text(), "skill_keys": keyword(),
                "company_id": keyword(), "company_name": text(), "company_key": keyword(),
                "category": keyword(), "category_name": text(),
                "employment_type": keyword(), "experience_level": keyword(), "workplace": keyword(),
                "country": keyword(), "city": keyword(), "location_text": text(), "geo": {"type": "geo_point"},
                "salary_currency": keyword(), "salary_year": {"type": "integer_range"},
                "salary_mid": {"type": "long"}, "has_salary": {"type": "boolean"},
                "featured": {"type": "boolean"}, "published_at": {"type": "date"}, "deadline": {"type": "date"},
                "summary": {"type": "object", "enabled": false}
            }),
            IndexKind::Companies => json!({
                "id": keyword(), "name": text(), "name_suggest": {"type": "search_as_you_type"}, "name_key": keyword(),
                "industry": keyword(), "industry_text": text(), "country": keyword(), "city": keyword(),
                "open_jobs": {"type": "integer"}, "created_at": {"type": "date"},
                "summary": {"type": "object", "enabled": false}
            }),
            IndexKind::Candidates => json!({
                "user_id": keyword(), "full_name": text(), "headline": text(), "skills": text(),
                "skill_keys": keyword(), "experience_titles": text(), "experience_level": keyword(),
                "country": keyword(), "city": keyword(), "geo": {"type": "geo_point"},
                "updated_at": {"type": "date"}, "summary": {"type": "object", "enabled": false}
            }),
            IndexKind::SavedSearches => json!({
                "id": keyword(), "user_id": keyword(), "frequency": keyword(), "created_at": {"type": "date"},
                "q_text": text(), "has_q": {"type": "boolean"},
                "category": keyword(), "company_id": keyword(), "employment_type": keyword(),
                "experience_level": keyword(), "workplace": keyword(), "country": keyword(),
                "stored": {"type": "object", "enabled": false}
            }),
        };
        // No shard or replica settings: Serverless manages them (and refuses some), a
        // managed domain's defaults fit indexes of this size.
        json!({"mappings": {"dynamic": "strict", "properties": properties}})
    }
}
