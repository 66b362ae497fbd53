//! Job rules: the vocabularies, what valid job text, locations, skills and deadlines are,
//! which status changes are allowed, and salary arithmetic for range filters.

use common::values::{optional_text, required_line, required_text, Salary, SalaryPeriod};
pub use common::vocab::{EmploymentType, ExperienceLevel, JobLocation, JobStatus, Workplace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const TITLE_MAX: usize = 150;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const SECTION_MAX: usize = 10_000;
pub const SKILLS_MAX: usize = 30;
pub const SKILL_MAX: usize = 50;
/// A deadline further out than this is a typo, not a plan.
pub const DEADLINE_MAX_DAYS: i64 = 366;

/// The status an owner may ask for in a create or PATCH body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerStatus {
    Draft,
    Published,
    Closed,
}

/// Whether an owner may move a job from `from` to `to`; `Err` is the reason for a 409.
pub fn owner_transition(from: JobStatus, to: OwnerStatus) -> Result<JobStatus, &'static str> {
    use JobStatus::*;
    match (from, to) {
        (Suspended, _) => Err("the job is suspended by a moderator"),
        (Draft, OwnerStatus::Draft) => Ok(Draft),
        (_, OwnerStatus::Draft) => Err("a job that was published cannot go back to draft; close it instead"),
        (Draft | Published | Closed | Expired, OwnerStatus::Published) => Ok(Published),
        (Draft | Published | Closed | Expired, OwnerStatus::Closed) => Ok(Closed),
    }
}

pub fn title(raw: &str) -> Result<String, &'static str> {
    required_line(raw, TITLE_MAX)
}
pub fn description(raw: &str) -> Result<String, &'static str> {
    required_text(raw, DESCRIPTION_MAX)
}
/// requirements, responsibilities, benefits.
pub fn section(raw: &str) -> Result<Option<String>, &'static str> {
    optional_text(raw, SECTION_MAX)
}

/// Trimmed, non-empty, at most 30, duplicates (ignoring case) dropped, order kept.
pub fn skills(raw: &[String]) -> Result<Vec<String>, &'static str> {
    // The length first: no per-item work on an oversized list.
    if raw.len() > SKILLS_MAX {
        return Err("at most 30 skills");
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for s in raw {
        let s = required_line(s, SKILL_MAX).map_err(|e| {
            if e == common::values::LINE_BREAK_REFUSED {
                e
            } else {
                "each skill must be 1 to 50 characters"
            }
        })?;
        if !out
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&s) || o.to_lowercase() == s.to_lowercase())
        {
            out.push(s);
        }
    }
    if out.len() > SKILLS_MAX {
        return Err("at most 30 skills");
    }
    Ok(out)
}

/// An RFC 3339 time after `now_secs` and within a year; normalised to UTC seconds.
pub fn deadline(raw: &str, now_secs: i64) -> Result<(String, i64), &'static str> {
    let t = common::time::parse_rfc3339(raw.trim()).ok_or("must be an RFC 3339 time such as 2027-01-31T23:59:59Z")?;
    let secs = t.timestamp();
    if secs <= now_secs {
        return Err("must be in the future");
    }
    if secs > now_secs + DEADLINE_MAX_DAYS * 86_400 {
        return Err("must be within a year");
    }
    Ok((common::time::rfc3339(secs), secs))
}

/// A salary amount per year, for comparing ranges given per hour, month or year
/// (2080 working hours a year).
pub fn yearly(amount: u64, period: SalaryPeriod) -> u64 {
    match period {
        SalaryPeriod::Year => amount,
        SalaryPeriod::Month => amount.saturating_mul(12),
        SalaryPeriod::Hour => amount.saturating_mul(2080),
    }
}

/// The yearly `(min, max)` of a salary.
pub fn yearly_range(s: &Salary) -> (u64, u64) {
    (yearly(s.min, s.period), yearly(s.max, s.period))
}

/// Range overlap: does a job paying `job` (yearly) meet a wish of `want` (yearly, either end open)?
pub fn overlaps(job: (u64, u64), want: (Option<u64>, Option<u64>)) -> bool {
    want.0.is_none_or(|min| job.1 >= min) && want.1.is_none_or(|max| job.0 <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use JobStatus::*;
        assert_eq!(owner_transition(Draft, OwnerStatus::Published), Ok(Published));
        assert_eq!(owner_transition(Closed, OwnerStatus::Published), Ok(Published));
        assert_eq!(owner_transition(Expired, OwnerStatus::Closed), Ok(Closed));
        assert!(owner_transition(Published, OwnerStatus::Draft).is_err());
        for to in [OwnerStatus::Draft, OwnerStatus::Published, OwnerStatus::Closed] {
            assert!(owner_transition(Suspended, to).is_err());
        }
        assert!(Closed.is_public() && !Draft.is_public() && !Suspended.is_public());
    }

    #[test]
    fn skills_are_trimmed_and_deduplicated() {
        let s = skills(&[" Rust ".into(), "rust".into(), "AWS".into()]).unwrap();
        assert_eq!(s, vec!["Rust".to_string(), "AWS".to_string()]);
        assert!(skills(&["".into()]).is_err());
        assert!(skills(&(0..31).map(|i| format!("s{i}")).collect::<Vec<_>>()).is_err());
        assert!(skills(&["x".repeat(51)]).is_err());
    }

    #[test]
    fn deadlines() {
        let now = 1_800_000_000;
        let (s, secs) = deadline("2027-01-15T10:00:00+01:00", now).unwrap();
        assert_eq!(s, "2027-01-15T09:00:00Z");
        assert_eq!(secs, 1_800_000_000 + (secs - now));
        assert!(deadline("2020-01-01T00:00:00Z", now).is_err());
        assert!(deadline("tomorrow", now).is_err());
        assert!(deadline("2030-01-01T00:00:00Z", now).is_err());
    }

    #[test]
    fn locations() {
        let l = JobLocation::parse(&JobLocation {
            city: " Berlin".into(),
            region: None,
            country: "de".into(),
            lat: Some(52.5),
            lon: Some(13.4),
        })
        .unwrap();
        assert_eq!((l.city.as_str(), l.country.as_str()), ("Berlin", "DE"));
        let bad = |lat, lon| {
            JobLocation::parse(&JobLocation {
                city: "X".into(),
                region: None,
                country: "DE".into(),
                lat,
                lon,
            })
            .is_err()
        };
        assert!(bad(Some(91.0), Some(0.0)));
        assert!(bad(Some(1.0), None));
        assert!(bad(Some(0.0), Some(181.0)));
        assert!(!bad(None, None));
    }

    #[test]
    fn salary_overlap() {
        let s = Salary {
            min: 4_000,
            max: 5_000,
            currency: "EUR".into(),
            period: SalaryPeriod::Month,
        };
        let y = yearly_range(&s);
        assert_eq!(y, (48_000, 60_000));
        assert!(overlaps(y, (Some(55_000), None)));
        assert!(overlaps(y, (Some(60_000), Some(70_000))));
        assert!(!overlaps(y, (Some(60_001), None)));
        assert!(!overlaps(y, (None, Some(47_999))));
        assert!(overlaps(y, (None, None)));
        assert_eq!(yearly(30, SalaryPeriod::Hour), 62_400);
    }
}
