//! Value types several domains share, each parsed once at the edge: web addresses,
//! locations, salaries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// For PATCH bodies, with `#[serde(default, deserialize_with = "common::values::nullable")]`:
/// an absent field is `None` (leave it), `null` is `Some(None)` (clear it), a value is
/// `Some(Some(v))`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Trimmed text of at most `max` characters; empty means none.
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, &'static str> {
    text(raw, max, false)
}

/// Trimmed, non-empty text of at most `max` characters.
pub fn required_text(raw: &str, max: usize) -> Result<String, &'static str> {
    text(raw, max, true).map(Option::unwrap_or_default)
}

/// Host-name endings that only resolve inside a network (RFC 6761, 6762, 8375 and common
/// private zones): a public link never points there.
const INTERNAL_SUFFIXES: &[&str] = &[
    ".localhost",
    ".local",
    ".internal",
    ".intranet",
    ".lan",
    ".home.arpa",
    ".corp",
    ".private",
    ".test",
    ".invalid",
];

/// An absolute http(s) URL to a public host name; empty means none. Refused: user-info
/// (`https://bank.example@evil.example` reads as one host and goes to another), IP literals
/// and internal names (a link must not point into anyone's network).
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
    // Backslashes read as slashes to browsers and as text to other parsers: refused.
    if u.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err("is not a valid web address");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not contain a user name or password");
    }
    if authority.starts_with('[') {
        return Err("must name a host, not an IP address");
    }
    let (host_name, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().map_or(true, |n| n == 0)) {
        return Err("is not a valid web address");
    }
    let host = host_name.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && host.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if !ok {
        return Err("is not a valid web address");
    }
    if labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("must name a host, not an IP address");
    }
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err("is not a valid web address");
    }
    let dotted = format!(".{host}");
    if INTERNAL_SUFFIXES.iter().any(|s| dotted.ends_with(s)) {
        return Err("must be a public address, not an internal one");
    }
    Ok(Some(u.to_string()))
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
    /// Coordinates for radius searches (both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Latitude and longitude, both or neither, within range.
pub fn coordinates(lat: Option<f64>, lon: Option<f64>) -> Result<(Option<f64>, Option<f64>), &'static str> {
    match (lat, lon) {
        (None, None) => Ok((None, None)),
        (Some(lat), Some(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => Ok((Some(lat), Some(lon))),
        (Some(_), Some(_)) => Err("lat must be within -90..90 and lon within -180..180"),
        _ => Err("lat and lon go together"),
    }
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
        let (lat, lon) = coordinates(raw.lat, raw.lon)?;
        Ok(Location {
            city,
            region,
            country,
            lat,
            lon,
        })
    }
}

/// How often a salary amount is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SalaryPeriod {
    Year,
    Month,
    Hour,
}

/// A salary range: `min <= max`, whole currency units, ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Salary {
    pub min: u64,
    pub max: u64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub period: SalaryPeriod,
}

impl Salary {
    pub fn parse(raw: &Salary) -> Result<Salary, &'static str> {
        let currency = raw.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("currency must be an ISO 4217 code such as EUR");
        }
        if raw.min > raw.max {
            return Err("min must not be greater than max");
        }
        if raw.max > 1_000_000_000 {
            return Err("max is not a plausible salary");
        }
        Ok(Salary { currency, ..raw.clone() })
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
            "https://bank.example@evil.example/login",
            "https://user:pass@acme.example",
            "http://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:8080",
            "http://[::1]/",
            "https://printer.local",
            "https://db.internal/admin",
            "https://router.home.arpa",
            "https://acme.example:99999",
            "https://acme.example\\@evil.example",
        ] {
            assert!(website(bad).is_err(), "{bad}");
        }
        assert_eq!(
            website("https://jobs.acme.example:8443/careers?x=1").unwrap().as_deref(),
            Some("https://jobs.acme.example:8443/careers?x=1")
        );
    }

    #[test]
    fn locations() {
        let l = Location::parse(&Location {
            city: " Berlin ".into(),
            region: Some(" ".into()),
            country: "de".into(),
            lat: None,
            lon: None,
        })
        .unwrap();
        assert_eq!(
            l,
            Location {
                city: "Berlin".into(),
                region: None,
                country: "DE".into(),
                lat: None,
                lon: None,
            }
        );
        assert!(Location::parse(&Location {
            city: "".into(),
            region: None,
            country: "DE".into(),
            lat: None,
            lon: None,
        })
        .is_err());
        assert!(Location::parse(&Location {
            city: "X".into(),
            region: None,
            country: "Germany".into(),
            lat: None,
            lon: None,
        })
        .is_err());
    }

    #[test]
    fn nullable_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Patch {
            #[serde(default, deserialize_with = "nullable")]
            v: Option<Option<String>>,
        }
        let p = |s: &str| serde_json::from_str::<Patch>(s).unwrap().v;
        assert_eq!(p("{}"), None);
        assert_eq!(p(r#"{"v": null}"#), Some(None));
        assert_eq!(p(r#"{"v": "x"}"#), Some(Some("x".into())));
    }

    #[test]
    fn salaries() {
        let s = Salary {
            min: 50_000,
            max: 70_000,
            currency: "eur".into(),
            period: SalaryPeriod::Year,
        };
        assert_eq!(Salary::parse(&s).unwrap().currency, "EUR");
        assert!(Salary::parse(&Salary {
            min: 2,
            max: 1,
            ..s.clone()
        })
        .is_err());
        assert!(Salary::parse(&Salary {
            currency: "EURO".into(),
            ..s.clone()
        })
        .is_err());
        assert!(serde_json::from_str::<Salary>(r#"{"min": -1, "max": 2, "currency": "EUR", "period": "year"}"#).is_err());
        assert!(serde_json::from_str::<Salary>(r#"{"min": 1, "max": 2, "currency": "EUR", "period": "week"}"#).is_err());
    }
}
