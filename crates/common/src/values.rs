//! Value types several domains share, each parsed once at the edge: web addresses,
//! locations, salaries.

mod forms;
pub use forms::*;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const URL_MAX: usize = 2048;
/// A location's city and region, at most (characters).
pub const CITY_MAX: usize = 100;
pub const REGION_MAX: usize = 100;
/// Latitude and longitude lie within `-LAT_MAX..=LAT_MAX` and `-LON_MAX..=LON_MAX`.
pub const LAT_MAX: f64 = 90.0;
pub const LON_MAX: f64 = 180.0;
/// The largest plausible salary amount (whole currency units).
pub const SALARY_MAX: u64 = 1_000_000_000;

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

/// White space as the document's patterns read `\s` (ECMAScript): Rust's white space
/// without U+0085 (a C1 control there), plus U+FEFF.
pub fn pattern_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// The parts of a comma-separated filter value, each trimmed of [`pattern_space`], empty
/// parts skipped (so what the document's `\s*` allows around a part is all that is
/// dropped).
pub fn list_parts(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(|p| p.trim_matches(pattern_space)).filter(|p| !p.is_empty())
}

/// Characters that never belong in a single-line field (a title, a name, a headline): line
/// and paragraph breaks (LF, CR, U+2028, U+2029), C0 and C1 controls (tab included), bidi
/// embeddings, overrides and isolates (which reorder what a reader sees), and zero-width
/// characters (which hide text or make two names look the same).
pub fn breaks_line(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}')
}

/// The reason a single-line field is refused for a character of [`breaks_line`].
pub const LINE_BREAK_REFUSED: &str = "must be one line without control, bidi-override or zero-width characters";

fn line(raw: &str, max: usize, required: bool) -> Result<Option<String>, &'static str> {
    if raw.chars().any(breaks_line) {
        return Err(LINE_BREAK_REFUSED);
    }
    text(raw, max, required)
}

/// A single-line text (titles, names, headlines) of at most `max` characters, trimmed;
/// empty means none. See [`breaks_line`] for what is refused.
pub fn optional_line(raw: &str, max: usize) -> Result<Option<String>, &'static str> {
    line(raw, max, false)
}

/// A trimmed, non-empty single-line text of at most `max` characters.
pub fn required_line(raw: &str, max: usize) -> Result<String, &'static str> {
    line(raw, max, true).map(Option::unwrap_or_default)
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

/// ASCII characters a URL may carry as they are (RFC 3986 unreserved and reserved, and `%`
/// of a percent-escape); `"`, `<`, `>`, `` ` ``, `{`, `|`, `}`, `^` and `\` are not among them.
fn rfc3986(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// Whether every `%` of `u` starts a two-digit hex escape.
fn escapes_ok(u: &str) -> bool {
    let b = u.as_bytes();
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'%')
        .all(|(i, _)| b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
}

/// An absolute http(s) URL to a public host name; empty means none. Refused: user-info
/// (`https://bank.example@evil.example` reads as one host and goes to another), IP literals,
/// internal names (a link must not point into anyone's network), ASCII characters outside
/// RFC 3986 (`https://acme.example/"><script>`) and broken percent-escapes. The URL is
/// parsed as a browser parses it (WHATWG, the `url` crate) and stored as it serialises
/// (host in lower case and punycode, other characters percent-encoded), except that a bare
/// host keeps no trailing `/`.
pub fn website(raw: &str) -> Result<Option<String>, &'static str> {
    let Some(checked) = website_shape(raw)? else {
        return Ok(None);
    };
    if checked.chars().any(|c| c.is_ascii() && !rfc3986(c)) || !escapes_ok(&checked) {
        return Err("is not a valid web address");
    }
    let parsed = url::Url::parse(&checked).map_err(|_| "is not a valid web address")?;
    if !matches!(parsed.scheme(), "http" | "https") || !matches!(parsed.host(), Some(url::Host::Domain(_))) {
        return Err("is not a valid web address");
    }
    let mut out = parsed.to_string();
    let bare = checked.split_once("://").is_some_and(|(_, rest)| !rest.contains(['/', '?', '#']));
    if bare && parsed.path() == "/" {
        out.pop();
    }
    // No length check on `out`: the limit is the text as given (the contract's maxLength);
    // serialising may add a few characters (`'` in a query becomes `%27`).
    Ok(Some(out))
}

/// The shape checks of [`website`] on the text as given: scheme, authority, host name.
fn website_shape(raw: &str) -> Result<Option<String>, &'static str> {
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

/// `v` to six decimal places (a rounded -0.0 is 0.0).
pub fn six_decimals(v: f64) -> f64 {
    (v * 1e6).round() / 1e6 + 0.0
}

/// Latitude and longitude, both or neither, within range, kept to six decimal places
/// (about 11 cm): finer digits locate nothing, and a number as small as `1e-300` is below
/// what DynamoDB stores (its smallest magnitude is 1e-130).
pub fn coordinates(lat: Option<f64>, lon: Option<f64>) -> Result<(Option<f64>, Option<f64>), &'static str> {
    match (lat, lon) {
        (None, None) => Ok((None, None)),
        (Some(lat), Some(lon)) if (-LAT_MAX..=LAT_MAX).contains(&lat) && (-LON_MAX..=LON_MAX).contains(&lon) => {
            Ok((Some(six_decimals(lat)), Some(six_decimals(lon))))
        }
        (Some(_), Some(_)) => Err("lat must be within -90..90 and lon within -180..180"),
        _ => Err("lat and lon go together"),
    }
}

impl Location {
    /// Trims, upper-cases the country code, checks lengths.
    pub fn parse(raw: &Location) -> Result<Location, &'static str> {
        let city = line(&raw.city, CITY_MAX, true)
            .map_err(|e| {
                if e == LINE_BREAK_REFUSED {
                    e
                } else {
                    "city is required (at most 100 characters)"
                }
            })?
            .unwrap_or_default();
        let region = raw
            .region
            .as_deref()
            .map(|r| line(r, REGION_MAX, false))
            .transpose()
            .map_err(|e| if e == LINE_BREAK_REFUSED { e } else { "region is too long" })?
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
    #[serde(deserialize_with = "whole")]
    pub min: u64,
    #[serde(deserialize_with = "whole")]
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
        if raw.max > SALARY_MAX {
            return Err("max is not a plausible salary");
        }
        Ok(Salary { currency, ..raw.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_lines_refuse_breaks_controls_bidi_and_zero_width() {
        assert_eq!(required_line("  Senior Engineer ", 50), Ok("Senior Engineer".to_string()));
        assert_eq!(
            optional_line("Zoë Müller-Łukasz 李", 50),
            Ok(Some("Zoë Müller-Łukasz 李".to_string()))
        );
        assert_eq!(optional_line("", 50), Ok(None));
        for bad in [
            "Engineer\nBcc: x@example.com",
            "a\rb",
            "a\tb",
            "a\u{0}b",
            "a\u{85}b",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{200B}b",
            "a\u{FEFF}b",
            "a\u{2060}b",
            "trailing\n",
        ] {
            assert_eq!(required_line(bad, 50), Err(LINE_BREAK_REFUSED), "{bad:?}");
            assert_eq!(optional_line(bad, 50), Err(LINE_BREAK_REFUSED), "{bad:?}");
        }
        // Multi-line texts keep their line breaks.
        assert!(optional_text("one\ntwo", 50).is_ok());
    }

    #[test]
    fn list_parts_trim_what_the_patterns_call_space() {
        let parts: Vec<&str> = list_parts(" a ,,\u{feff}b\u{3000}, ").collect();
        assert_eq!(parts, ["a", "b"]);
        assert_eq!(
            list_parts("\u{85}").collect::<Vec<_>>(),
            ["\u{85}"],
            "U+0085 is no space to the document"
        );
    }

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
            "https://example.com/\"><script>",
            "https://example.com/<b>",
            "https://example.com/a{b}",
            "https://example.com/100%",
            "https://example.com/%zz",
            "https://example.com/a`b",
        ] {
            assert!(website(bad).is_err(), "{bad}");
        }
        assert_eq!(
            website("https://jobs.acme.example:8443/careers?x=1").unwrap().as_deref(),
            Some("https://jobs.acme.example:8443/careers?x=1")
        );
        // Stored as a browser reads it.
        for (given, stored) in [
            ("https://ACME.example", "https://acme.example"),
            ("https://acme.example/", "https://acme.example/"),
            ("https://acme.example/a/../jobs", "https://acme.example/jobs"),
            ("https://acme.example:443/x", "https://acme.example/x"),
            (
                "https://de.wikipedia.example/wiki/Köln",
                "https://de.wikipedia.example/wiki/K%C3%B6ln",
            ),
            ("https://bücher.example/", "https://xn--bcher-kva.example/"),
            ("https://acme.example/a%20b", "https://acme.example/a%20b"),
        ] {
            assert_eq!(website(given).unwrap().as_deref(), Some(stored), "{given}");
        }
        // The limit is the text as given: a URL at the limit whose serialisation grows is kept.
        let at_limit = format!("https://acme.example/?q='{}", "a".repeat(URL_MAX - 25));
        assert_eq!(at_limit.len(), URL_MAX);
        assert!(website(&at_limit).unwrap().unwrap().contains("%27"));
        assert!(website(&format!("{at_limit}a")).is_err());
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
    fn coordinates_keep_six_decimals() {
        assert_eq!(
            coordinates(Some(52.520_008_4), Some(13.404_954_4)),
            Ok((Some(52.520008), Some(13.404954)))
        );
        // Below DynamoDB's smallest magnitude: stored as plain 0, not -0.
        let (lat, lon) = coordinates(Some(2.4e-303), Some(-1.6e-111)).unwrap();
        assert_eq!((lat, lon), (Some(0.0), Some(0.0)));
        assert!(lon.unwrap().is_sign_positive());
        assert_eq!(coordinates(Some(-90.0), Some(180.0)), Ok((Some(-90.0), Some(180.0))));
        assert!(coordinates(Some(90.000_000_1), Some(0.0)).is_err());
        assert!(coordinates(Some(1.0), None).is_err());
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
