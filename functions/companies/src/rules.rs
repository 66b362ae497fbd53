//! Company rules: what a valid name, website, location, size and industry are.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const NAME_MAX: usize = 120;
pub const DESCRIPTION_MAX: usize = 5000;
pub const INDUSTRY_MAX: usize = 80;
pub const URL_MAX: usize = 2048;

fn text(raw: &str, max: usize, required: bool) -> Result<Option<String>, &'static str> {
    let t = raw.trim();
    if t.is_empty() {
        return if required { Err("is required") } else { Ok(None) };
    }
    if t.chars().count() > max {
        return Err("is too long");
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters");
    }
    Ok(Some(t.to_string()))
}

pub fn name(raw: &str) -> Result<String, &'static str> {
    text(raw, NAME_MAX, true).map(Option::unwrap_or_default)
}
pub fn description(raw: &str) -> Result<Option<String>, &'static str> {
    text(raw, DESCRIPTION_MAX, false)
}
pub fn industry(raw: &str) -> Result<Option<String>, &'static str> {
    text(raw, INDUSTRY_MAX, false)
}

/// An absolute http(s) URL with a dotted host; empty means none.
pub fn website(raw: &str) -> Result<Option<String>, &'static str> {
    let u = raw.trim();
    if u.is_empty() {
        return Ok(None);
    }
    if u.len() > URL_MAX {
        return Err("is too long");
    }
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host_name = host.split(':').next().unwrap_or_default();
    let ok = host_name.contains('.')
        && !host_name.starts_with('.')
        && !host_name.ends_with('.')
        && host_name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        && !u.chars().any(char::is_whitespace);
    if !ok {
        return Err("is not a valid web address");
    }
    Ok(Some(u.to_string()))
}

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

/// Where a company (or a job) is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
}

impl Location {
    /// Trims, upper-cases the country code, checks lengths.
    pub fn parse(raw: &Location) -> Result<Location, &'static str> {
        let city = text(&raw.city, 100, true)
            .map_err(|_| "city is required (at most 100 characters)")?
            .unwrap_or_default();
        let region = raw
            .region
            .as_deref()
            .map(|r| text(r, 100, false))
            .transpose()
            .map_err(|_| "region is too long")?
            .flatten();
        let country = raw.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("country must be an ISO 3166-1 alpha-2 code such as DE");
        }
        Ok(Location { city, region, country })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websites() {
        assert_eq!(
            website(" https://acme.example/jobs ").unwrap().as_deref(),
            Some("https://acme.example/jobs")
        );
        assert_eq!(website("").unwrap(), None);
        for bad in [
            "acme.example",
            "ftp://acme.example",
            "https://",
            "https://localhost",
            "https://a b.com",
            "javascript:alert(1)",
            "https://.com",
        ] {
            assert!(website(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locations() {
        let l = Location::parse(&Location {
            city: " Berlin ".into(),
            region: Some(" ".into()),
            country: "de".into(),
        })
        .unwrap();
        assert_eq!(
            l,
            Location {
                city: "Berlin".into(),
                region: None,
                country: "DE".into()
            }
        );
        assert!(Location::parse(&Location {
            city: "".into(),
            region: None,
            country: "DE".into()
        })
        .is_err());
        assert!(Location::parse(&Location {
            city: "X".into(),
            region: None,
            country: "Germany".into()
        })
        .is_err());
    }

    #[test]
    fn names_and_sizes() {
        assert_eq!(name("  Acme ").unwrap(), "Acme");
        assert!(name(" ").is_err());
        assert!(name(&"n".repeat(121)).is_err());
        assert_eq!(serde_json::to_string(&CompanySize::S5001Plus).unwrap(), "\"5001+\"");
        assert!(serde_json::from_str::<CompanySize>("\"huge\"").is_err());
    }
}
