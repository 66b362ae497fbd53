//! Profile rules: lengths, phone numbers, skills, education and experience entries.

use common::values::{optional_line, optional_text, required_line, LINE_BREAK_REFUSED};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MAX_SKILLS: usize = 50;
pub const MAX_EDUCATION: usize = 20;
pub const MAX_EXPERIENCE: usize = 30;
pub const HEADLINE_MAX: usize = 120;
pub const BIO_MAX: usize = 2000;
pub const ADDRESS_MAX: usize = 300;
pub const SKILL_MAX: usize = 50;
/// An education's school, degree and field, an experience's title and company.
pub const ENTRY_LINE_MAX: usize = 120;
/// An experience's description.
pub const ENTRY_TEXT_MAX: usize = 2000;
/// A phone number's digits after the `+`.
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

pub fn headline(raw: &str) -> Result<Option<String>, &'static str> {
    optional_line(raw, HEADLINE_MAX)
}
pub fn bio(raw: &str) -> Result<Option<String>, &'static str> {
    optional_text(raw, BIO_MAX)
}
pub fn address(raw: &str) -> Result<Option<String>, &'static str> {
    optional_text(raw, ADDRESS_MAX)
}

/// A phone number in international form: `+` and 7-15 digits; spaces, dashes, dots and
/// parentheses are dropped.
pub fn phone(raw: &str) -> Result<Option<String>, &'static str> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let Some(rest) = t.strip_prefix('+') else {
        return Err("must start with + and the country code");
    };
    let digits: String = rest.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    if !PHONE_DIGITS.contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be + and 7 to 15 digits");
    }
    Ok(Some(format!("+{digits}")))
}

/// Trimmed, de-duplicated (case-insensitively, first spelling kept), 1-50 characters each.
pub fn skills(raw: &[String]) -> Result<Vec<String>, &'static str> {
    // The length first: no per-item work on an oversized list.
    if raw.len() > MAX_SKILLS {
        return Err("at most 50 skills");
    }
    let mut out: Vec<String> = Vec::new();
    for s in raw {
        let s = required_line(s, SKILL_MAX).map_err(|e| {
            if e == LINE_BREAK_REFUSED {
                e
            } else {
                "each skill must be 1-50 characters"
            }
        })?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
    }
    if out.len() > MAX_SKILLS {
        return Err("at most 50 skills");
    }
    Ok(out)
}

/// `YYYY-MM`.
fn month(raw: &str) -> Result<String, &'static str> {
    let ok = raw.len() == 7
        && raw.as_bytes()[4] == b'-'
        && raw.bytes().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit())
        && raw[..4].parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y))
        && raw[5..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
    if ok {
        Ok(raw.to_string())
    } else {
        Err("dates are YYYY-MM")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Education {
    pub school: String,
    #[serde(default)]
    pub degree: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    /// `YYYY-MM`
    #[serde(default)]
    pub start: Option<String>,
    /// `YYYY-MM`; absent while studying.
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Experience {
    pub title: String,
    pub company: String,
    /// `YYYY-MM`
    pub start: String,
    /// `YYYY-MM`; absent for the current position.
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

fn range(start: Option<&str>, end: Option<&str>) -> Result<(Option<String>, Option<String>), &'static str> {
    let s = start.map(month).transpose()?;
    let e = end.map(month).transpose()?;
    if let (Some(s), Some(e)) = (&s, &e) {
        if e < s {
            return Err("end must not be before start");
        }
    }
    Ok((s, e))
}

pub fn education(raw: &[Education]) -> Result<Vec<Education>, &'static str> {
    if raw.len() > MAX_EDUCATION {
        return Err("at most 20 entries");
    }
    raw.iter()
        .map(|e| {
            let (start, end) = range(e.start.as_deref(), e.end.as_deref())?;
            Ok(Education {
                school: required_line(&e.school, ENTRY_LINE_MAX).map_err(|e| {
                    if e == LINE_BREAK_REFUSED {
                        e
                    } else {
                        "school is required (at most 120 characters)"
                    }
                })?,
                degree: e.degree.as_deref().map(|d| optional_line(d, ENTRY_LINE_MAX)).transpose()?.flatten(),
                field: e.field.as_deref().map(|d| optional_line(d, ENTRY_LINE_MAX)).transpose()?.flatten(),
                start,
                end,
            })
        })
        .collect()
}

pub fn experience(raw: &[Experience]) -> Result<Vec<Experience>, &'static str> {
    if raw.len() > MAX_EXPERIENCE {
        return Err("at most 30 entries");
    }
    raw.iter()
        .map(|e| {
            let (start, end) = range(Some(&e.start), e.end.as_deref())?;
            Ok(Experience {
                title: required_line(&e.title, ENTRY_LINE_MAX).map_err(|e| {
                    if e == LINE_BREAK_REFUSED {
                        e
                    } else {
                        "title is required (at most 120 characters)"
                    }
                })?,
                company: required_line(&e.company, ENTRY_LINE_MAX).map_err(|e| {
                    if e == LINE_BREAK_REFUSED {
                        e
                    } else {
                        "company is required (at most 120 characters)"
                    }
                })?,
                start: start.unwrap_or_default(),
                end,
                description: e
                    .description
                    .as_deref()
                    .map(|d| optional_text(d, ENTRY_TEXT_MAX))
                    .transpose()?
                    .flatten(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(phone(" +49 (30) 123-4567 ").unwrap().as_deref(), Some("+49301234567"));
        assert_eq!(phone("").unwrap(), None);
        for bad in ["030 1234567", "+12", "+49 30 CALL ME", "+1234567890123456"] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn skills_are_cleaned() {
        let s = skills(&[" Rust ".into(), "rust".into(), "SQL".into()]).unwrap();
        assert_eq!(s, vec!["Rust", "SQL"]);
        assert!(skills(&["".into()]).is_err());
        assert!(skills(&(0..51).map(|i| format!("s{i}")).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn entries_and_dates() {
        let e = Experience {
            title: "Dev".into(),
            company: "Acme".into(),
            start: "2020-01".into(),
            end: Some("2019-12".into()),
            description: None,
        };
        assert!(experience(std::slice::from_ref(&e)).is_err());
        assert!(experience(&[Experience { end: None, ..e.clone() }]).is_ok());
        assert!(experience(&[Experience {
            start: "2020-13".into(),
            end: None,
            ..e
        }])
        .is_err());
        let ed = Education {
            school: " Uni ".into(),
            degree: Some(" ".into()),
            field: None,
            start: Some("2015-10".into()),
            end: Some("2019-09".into()),
        };
        assert_eq!(education(&[ed]).unwrap()[0].school, "Uni");
    }
}
