//! The documents each index holds, built from domain records. These structs are the whole
//! of what reaches the engine: encrypted personal data (phone, address, bio) and email
//! addresses have no field here, so they cannot enter an index.

use common::values::Salary;
use common::vocab::{Company, EmploymentType, ExperienceLevel, Job, JobLocation, Workplace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A geo point as the engine takes it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
}

/// An integer range (yearly salary).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct YearRange {
    pub gte: i64,
    pub lte: i64,
}

/// What a search result shows of a job (stored, not indexed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobSummary {
    pub id: String,
    pub title: String,
    pub company_id: String,
    pub company_name: String,
    pub category: String,
    pub location: JobLocation,
    pub workplace: Workplace,
    pub employment_type: EmploymentType,
    pub experience_level: ExperienceLevel,
    pub salary: Option<Salary>,
    pub skills: Vec<String>,
    pub featured: bool,
    pub published_at: Option<String>,
    pub application_deadline: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobDoc {
    pub id: String,
    pub title: String,
    pub title_key: String,
    pub title_suggest: String,
    pub description: String,
    pub skills: Vec<String>,
    pub skill_keys: Vec<String>,
    pub company_id: String,
    pub company_name: String,
    pub company_key: String,
    pub category: String,
    pub category_name: String,
    pub employment_type: String,
    pub experience_level: String,
    pub workplace: String,
    pub country: String,
    pub city: String,
    pub location_text: String,
    pub geo: Option<Geo>,
    pub salary_currency: Option<String>,
    pub salary_year: Option<YearRange>,
    pub salary_mid: Option<i64>,
    pub has_salary: bool,
    pub featured: bool,
    pub published_at: Option<String>,
    pub deadline: Option<String>,
    pub summary: JobSummary,
}

fn word<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// "London Greater London GB United Kingdom of Great Britain...": what `location` text matches.
pub fn location_text(city: &str, region: Option<&str>, country: &str) -> String {
    let name = isocountry::CountryCode::for_alpha2(country).map(|c| c.name()).unwrap_or_default();
    [city, region.unwrap_or_default(), country, name]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

impl JobDoc {
    pub fn new(job: &Job, company_name: &str, category_name: &str) -> JobDoc {
        let yearly = job.salary.as_ref().map(jobs::rules::yearly_range);
        let l = &job.location;
        JobDoc {
            id: job.id.clone(),
            title: job.title.clone(),
            title_key: job.title.to_lowercase(),
            title_suggest: job.title.clone(),
            description: [Some(&job.description), job.requirements.as_ref(), job.responsibilities.as_ref()]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            skills: job.skills.clone(),
            skill_keys: job.skills.iter().map(|s| s.to_lowercase()).collect(),
            company_id: job.company_id.clone(),
            company_name: company_name.to_string(),
            company_key: company_name.to_lowercase(),
            category: job.category.clone(),
            category_name: category_name.to_string(),
            employment_type: word(job.employment_type),
            experience_level: word(job.experience_level),
            workplace: word(job.workplace),
            country: l.country.clone(),
            city: l.city.to_lowercase(),
            location_text: location_text(&l.city, l.region.as_deref(), &l.country),
            geo: l.lat.zip(l.lon).map(|(lat, lon)| Geo { lat, lon }),
            salary_currency: job.salary.as_ref().map(|s| s.currency.clone()),
            salary_year: yearly.map(|(a, b)| YearRange {
                gte: clamp_yearly(a),
                lte: clamp_yearly(b),
            }),
            salary_mid: yearly.map(|(a, b)| clamp_yearly(a / 2 + b / 2)),
            has_salary: job.salary.is_some(),
            featured: job.featured,
            published_at: job.published_at.clone(),
            deadline: job.application_deadline.clone(),
            summary: JobSummary {
                id: job.id.clone(),
                title: job.title.clone(),
                company_id: job.company_id.clone(),
                company_name: company_name.to_string(),
                category: job.category.clone(),
                location: job.location.clone(),
                workplace: job.workplace,
                employment_type: job.employment_type,
                experience_level: job.experience_level,
                salary: job.salary.clone(),
                skills: job.skills.clone(),
                featured: job.featured,
                published_at: job.published_at.clone(),
                application_deadline: job.application_deadline.clone(),
            },
        }
    }
}

/// What a company search result shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompanySummary {
    pub id: String,
    pub name: String,
    pub industry: Option<String>,
    pub logo: Option<String>,
    pub location: Option<common::values::Location>,
    pub size: Option<common::vocab::CompanySize>,
    pub open_jobs: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyDoc {
    pub id: String,
    pub name: String,
    pub name_suggest: String,
    pub name_key: String,
    pub industry: Option<String>,
    pub industry_text: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub open_jobs: i64,
    pub created_at: String,
    pub summary: CompanySummary,
}

impl CompanyDoc {
    pub fn new(c: &Company, open_jobs: i64) -> CompanyDoc {
        CompanyDoc {
            id: c.id.clone(),
            name: c.name.clone(),
            name_suggest: c.name.clone(),
            name_key: c.name.to_lowercase(),
            industry: c.industry.as_ref().map(|i| i.to_lowercase()),
            industry_text: c.industry.clone(),
            country: c.location.as_ref().map(|l| l.country.clone()),
            city: c.location.as_ref().map(|l| l.city.to_lowercase()),
            open_jobs,
            created_at: c.created_at.clone(),
            summary: CompanySummary {
                id: c.id.clone(),
                name: c.name.clone(),
                industry: c.industry.clone(),
                logo: c.logo.clone(),
                location: c.location.clone(),
                size: c.size,
                open_jobs,
            },
        }
    }
}

/// What an employer sees of a candidate in a search: nothing else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CandidateSummary {
    pub user_id: String,
    pub full_name: String,
    pub headline: Option<String>,
    pub skills: Vec<String>,
    pub location: Option<common::values::Location>,
    pub available_for_hire: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateDoc {
    pub user_id: String,
    pub full_name: String,
    pub headline: Option<String>,
    pub skills: Vec<String>,
    pub skill_keys: Vec<String>,
    pub experience_titles: Vec<String>,
    pub experience_level: String,
    pub country: Option<String>,
    pub city: Option<String>,
    pub geo: Option<Geo>,
    pub summary: CandidateSummary,
}

/// Months between `YYYY-MM` dates (`None`: now).
fn months(start: &str, end: Option<&str>, now: (i32, i32)) -> i32 {
    let parse = |s: &str| -> Option<(i32, i32)> {
        let (y, m) = s.split_once('-')?;
        Some((y.parse().ok()?, m.parse().ok()?))
    };
    let Some((sy, sm)) = parse(start) else { return 0 };
    let (ey, em) = end.and_then(parse).unwrap_or(now);
    ((ey - sy) * 12 + (em - sm)).max(0)
}

/// The level years of experience suggest: under 2 entry, under 5 mid, under 8 senior,
/// under 12 lead, else executive.
pub fn experience_level(experience: &[profiles::rules::Experience], now: (i32, i32)) -> ExperienceLevel {
    let total: i32 = experience.iter().map(|e| months(&e.start, e.end.as_deref(), now)).sum();
    match total / 12 {
        0..=1 => ExperienceLevel::Entry,
        2..=4 => ExperienceLevel::Mid,
        5..=7 => ExperienceLevel::Senior,
        8..=11 => ExperienceLevel::Lead,
        _ => ExperienceLevel::Executive,
    }
}

impl CandidateDoc {
    pub fn new(p: &profiles::Searchable, now: (i32, i32)) -> CandidateDoc {
        let loc = p.location.as_ref();
        CandidateDoc {
            user_id: p.user_id.clone(),
            full_name: p.full_name.clone(),
            headline: p.headline.clone(),
            skills: p.skills.clone(),
            skill_keys: p.skills.iter().map(|s| s.to_lowercase()).collect(),
            experience_titles: p.experience.iter().map(|e| e.title.clone()).collect(),
            experience_level: word(experience_level(&p.experience, now)),
            country: loc.map(|l| l.country.clone()),
            city: loc.map(|l| l.city.to_lowercase()),
            geo: loc.and_then(|l| l.lat.zip(l.lon)).map(|(lat, lon)| Geo { lat, lon }),
            summary: CandidateSummary {
                user_id: p.user_id.clone(),
                full_name: p.full_name.clone(),
                headline: p.headline.clone(),
                skills: p.skills.clone(),
                location: p.location.clone(),
                available_for_hire: true,
            },
        }
    }
}

/// A yearly amount as the index holds it: `salary_year` is an `integer_range`, so amounts
/// above 2^31 - 1 (a billion an hour, as a year) are held, and searched for, as that.
pub fn clamp_yearly(v: u64) -> i64 {
    v.min(i32::MAX as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use profiles::rules::Experience;

    #[test]
    fn experience_level_from_years() {
        let e = |start: &str, end: Option<&str>| Experience {
            title: "Dev".into(),
            company: "Acme".into(),
            start: start.into(),
            end: end.map(str::to_string),
            description: None,
        };
        assert_eq!(experience_level(&[], (2026, 11)), ExperienceLevel::Entry);
        assert_eq!(experience_level(&[e("2023-01", None)], (2026, 11)), ExperienceLevel::Mid);
        assert_eq!(
            experience_level(&[e("2012-01", Some("2016-01")), e("2022-01", None)], (2026, 11)),
            ExperienceLevel::Lead
        );
    }

    #[test]
    fn location_text_names_the_country() {
        let t = location_text("London", None, "GB");
        assert!(t.contains("London") && t.contains("GB") && t.contains("United Kingdom"), "{t}");
    }
}
