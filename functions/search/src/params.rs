//! The parameters of GET /search/jobs, parsed once (the same parser validates a saved
//! search's query), and the one OpenSearch request they become.

use std::collections::BTreeMap;

use common::{ApiError, ApiResult};
use jobs::listing::Filters;
use serde_json::Value;

use crate::docs::Geo;
use crate::query::{Agg, AggKind, Band, Bool, Highlight, HighlightField, MultiMatch, Query, Range, SearchBody, Sort};
use crate::synonyms;

pub const MAX_LIMIT: usize = 50;
pub const MAX_DEPTH: usize = 1000;
pub const Q_MAX: usize = 200;
/// `q` of the company search and of suggestions, at most (characters).
pub const SHORT_Q_MAX: usize = 100;
/// `location`, at most (characters).
pub const LOCATION_MAX: usize = 100;
/// `radius_km` lies within this range.
pub const RADIUS_KM: std::ops::RangeInclusive<f64> = 0.1..=1000.0;
/// `posted_within` (days) lies within this range.
pub const POSTED_WITHIN_DAYS: std::ops::RangeInclusive<u32> = 1..=365;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Relevance,
    Date,
    Salary,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Radius {
    pub at: Geo,
    pub km: f64,
    pub include_remote: bool,
}

/// Everything a job search asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSearch {
    pub q: Option<String>,
    pub filters: Filters,
    pub radius: Option<Radius>,
    pub location: Option<String>,
    pub posted_within_days: Option<u32>,
    pub sort: SortBy,
}

/// The names the parser reads (anything else in a saved query is refused).
pub const NAMES: &[&str] = &[
    "q",
    "category",
    "company_id",
    "employment_type",
    "experience_level",
    "workplace",
    "country",
    "city",
    "salary_min",
    "salary_max",
    "currency",
    "salary_period",
    "has_salary",
    "lat",
    "lon",
    "radius_km",
    "include_remote",
    "location",
    "posted_within",
    "sort",
];

fn invalid(details: BTreeMap<String, String>) -> ApiError {
    let details: serde_json::Map<String, Value> = details.into_iter().map(|(k, v)| (k, serde_json::json!([v]))).collect();
    ApiError::bad_request("some search parameters are not valid")
        .with_code("invalid_filter")
        .with_details(Value::Object(details))
}

/// `lat`, `lon` and `radius_km` (all or none, in range) and `include_remote`; problems are
/// added by parameter name. Shared by job and candidate searches.
pub fn radius(get: impl Fn(&str) -> Option<String>, problems: &mut BTreeMap<String, String>) -> Option<Radius> {
    let present = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    // A number given empty (`lat=`) is no number: refused, as the document's `type` says.
    let mut number = |name: &str, range: std::ops::RangeInclusive<f64>| -> Option<f64> {
        let raw = get(name)?;
        match raw.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && range.contains(&v) => Some(v),
            _ => {
                problems.insert(name.into(), format!("must be a number from {} to {}", range.start(), range.end()));
                None
            }
        }
    };
    use common::values::{LAT_MAX, LON_MAX};
    let lat = number("lat", -LAT_MAX..=LAT_MAX);
    let lon = number("lon", -LON_MAX..=LON_MAX);
    let km = number("radius_km", RADIUS_KM);
    let include_remote = match present("include_remote").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            problems.insert("include_remote".into(), "must be true or false".into());
            false
        }
    };
    let given = ["lat", "lon", "radius_km"].iter().filter(|k| present(k).is_some()).count();
    if given > 0 && given < 3 {
        for k in ["lat", "lon", "radius_km"] {
            if present(k).is_none() {
                problems
                    .entry(k.into())
                    .or_insert_with(|| "lat, lon and radius_km go together".into());
            }
        }
    }
    match (lat, lon, km) {
        (Some(lat), Some(lon), Some(km)) => Some(Radius {
            at: Geo { lat, lon },
            km,
            include_remote,
        }),
        _ => None,
    }
}

impl JobSearch {
    /// Parses through `get`; every problem is reported at once (400 `invalid_filter`).
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> ApiResult<JobSearch> {
        let mut problems: BTreeMap<String, String> = BTreeMap::new();
        let filters = match Filters::parse(&get) {
            Ok(f) => Some(f),
            Err(e) => {
                let body = e.body("");
                if let Some(Value::Object(d)) = body.get("details") {
                    for (k, v) in d {
                        let text = v[0].as_str().unwrap_or("is not valid").to_string();
                        problems.insert(k.clone(), text);
                    }
                }
                None
            }
        };
        let present = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let q = present("q");
        if q.as_ref().is_some_and(|q| q.chars().count() > Q_MAX) {
            problems.insert("q".into(), format!("at most {Q_MAX} characters"));
        }
        let radius = radius(&get, &mut problems);
        let include_remote = present("include_remote").as_deref() == Some("true");
        if include_remote && radius.is_none() {
            problems
                .entry("include_remote".into())
                .or_insert_with(|| "needs lat, lon and radius_km".into());
        }
        let location = present("location");
        if location.as_ref().is_some_and(|l| l.chars().count() > LOCATION_MAX) {
            problems.insert("location".into(), "at most 100 characters".into());
        }
        let posted_within_days = get("posted_within").and_then(|raw| match raw.trim().parse::<u32>() {
            Ok(d) if POSTED_WITHIN_DAYS.contains(&d) => Some(d),
            _ => {
                problems.insert("posted_within".into(), "must be a whole number of days from 1 to 365".into());
                None
            }
        });
        let sort = match present("sort").as_deref() {
            None if q.is_some() => SortBy::Relevance,
            None => SortBy::Date,
            Some("relevance") if q.is_some() => SortBy::Relevance,
            Some("relevance") => {
                problems.insert("sort".into(), "relevance needs a q to be relevant to".into());
                SortBy::Date
            }
            Some("date") => SortBy::Date,
            Some("salary") => SortBy::Salary,
            Some(_) => {
                problems.insert("sort".into(), "must be relevance, date or salary".into());
                SortBy::Date
            }
        };
        match filters {
            Some(filters) if problems.is_empty() => Ok(JobSearch {
                q,
                filters,
                radius,
                location,
                posted_within_days,
                sort,
            }),
            _ => Err(invalid(problems)),
        }
    }

    /// A canonical text of the search: cursors are bound to it.
    pub fn context(&self) -> String {
        format!(
            "q={:?};{};r={:?};l={:?};p={:?};s={:?}",
            self.q,
            self.filters.context(),
            self.radius,
            self.location,
            self.posted_within_days,
            self.sort
        )
    }

    /// The text part: one clause per slot (a word or a known phrase with its synonyms), all
    /// but one of them required, each typo tolerant.
    pub fn text_query(&self) -> Option<Query> {
        let slots = synonyms::slots(self.q.as_deref()?);
        if slots.is_empty() {
            return None;
        }
        let fields: Vec<String> = ["title^5", "skills^3", "company_name^2", "category_name^2", "description"]
            .iter()
            .map(|f| f.to_string())
            .collect();
        let clause = |text: &str, phrase: bool| {
            Query::MultiMatch(MultiMatch {
                query: text.to_string(),
                fields: fields.clone(),
                kind: phrase.then_some("phrase"),
                fuzziness: (!phrase).then_some("AUTO"),
                prefix_length: (!phrase).then_some(1),
                operator: None,
            })
        };
        let per_slot: Vec<Query> = slots
            .iter()
            .map(|s| {
                let mut alternatives = vec![clause(&s.text, s.text.contains(' '))];
                alternatives.extend(s.alternatives.iter().map(|a| clause(a, a.contains(' '))));
                Query::any_of(alternatives)
            })
            .collect();
        let required = per_slot.len().saturating_sub(1).max(1);
        Some(Query::Bool(Box::new(Bool {
            should: per_slot,
            minimum_should_match: Some(required),
            ..Bool::default()
        })))
    }

    /// Every filter by facet dimension (`None`: not a facet), so a facet's counts can leave
    /// out its own filter and honour all others.
    pub fn filter_clauses(&self, now_secs: i64) -> Vec<(Option<&'static str>, Query)> {
        let f = &self.filters;
        let mut out: Vec<(Option<&'static str>, Query)> = Vec::new();
        let now = chrono::DateTime::from_timestamp(now_secs, 0).unwrap_or_default();
        // Open now: the deadline may pass before the expiry schedule runs.
        out.push((
            None,
            Query::Bool(Box::new(Bool {
                must_not: vec![Query::range(
                    "deadline",
                    Range {
                        lte: Some(now.to_rfc3339().into()),
                        ..Range::default()
                    },
                )],
                ..Bool::default()
            })),
        ));
        for (facet, field, values) in [
            (Some("category"), "category", &f.categories),
            (None, "company_id", &f.company_ids),
            (Some("employment_type"), "employment_type", &f.employment_types),
            (Some("experience_level"), "experience_level", &f.experience_levels),
            (Some("workplace"), "workplace", &f.workplaces),
            (None, "country", &f.countries),
            (None, "city", &f.cities),
        ] {
            if !values.is_empty() {
                out.push((facet, Query::terms(field, values)));
            }
        }
        if let Some(s) = self.salary_clause() {
            out.push((Some("salary_band"), s));
        }
        if let Some(r) = &self.radius {
            let near = Query::within("geo", r.at, r.km);
            let q = if r.include_remote {
                Query::any_of(vec![near, Query::term("workplace", "remote")])
            } else {
                near
            };
            out.push((None, q));
        }
        if let Some(l) = &self.location {
            out.push((None, Query::matches("location_text", l, Some("and"), None)));
        }
        if let Some(d) = self.posted_within_days {
            let since = now - chrono::Duration::days(d as i64);
            out.push((
                None,
                Query::range(
                    "published_at",
                    Range {
                        gte: Some(since.to_rfc3339().into()),
                        ..Range::default()
                    },
                ),
            ));
        }
        out
    }

    /// Salary overlap in yearly amounts and one currency; jobs without a salary stay unless
    /// `has_salary` (the meaning of GET /jobs).
    fn salary_clause(&self) -> Option<Query> {
        let f = &self.filters;
        let ranged = f.salary_min.is_some() || f.salary_max.is_some();
        if !ranged && !f.has_salary {
            return None;
        }
        let mut with = vec![Query::term("has_salary", true)];
        if let Some(c) = &f.currency {
            with.push(Query::term("salary_currency", c.as_str()));
        }
        if ranged {
            with.push(Query::range(
                "salary_year",
                Range {
                    gte: Some(crate::docs::clamp_yearly(f.salary_min.unwrap_or(0)).into()),
                    lte: Some(crate::docs::clamp_yearly(f.salary_max.unwrap_or(u64::MAX)).into()),
                    relation: Some("intersects"),
                    ..Range::default()
                },
            ));
        }
        let with = Query::all_of(with);
        Some(if f.has_salary {
            with
        } else {
            Query::any_of(vec![with, Query::term("has_salary", false)])
        })
    }

    /// The whole request: text in `query`, filters in `post_filter` (so facets can leave
    /// their own out), one filtered aggregation per facet, sort, highlights.
    pub fn body(&self, size: usize, after: Option<Vec<Value>>, depth: usize, now_secs: i64) -> SearchBody {
        let clauses = self.filter_clauses(now_secs);
        let all: Vec<Query> = clauses.iter().map(|(_, q)| q.clone()).collect();
        let mut body = SearchBody::new(self.text_query().unwrap_or_else(Query::match_all), size);
        body.post_filter = Some(Query::all_of(all));
        for (facet, kind) in facet_aggs() {
            let others: Vec<Query> = clauses.iter().filter(|(f, _)| *f != Some(facet)).map(|(_, q)| q.clone()).collect();
            body.aggs.insert(
                facet.to_string(),
                Agg {
                    kind: AggKind::Filter(Query::all_of(others)),
                    aggs: BTreeMap::from([(
                        "v".to_string(),
                        Agg {
                            kind,
                            aggs: BTreeMap::new(),
                        },
                    )]),
                },
            );
        }
        body.sort = match self.sort {
            SortBy::Relevance => vec![Sort::score(), Sort::by("published_at", "desc"), Sort::by("id", "asc")],
            SortBy::Date => vec![Sort::by("published_at", "desc"), Sort::by("id", "asc")],
            SortBy::Salary => vec![
                Sort::by("salary_mid", "desc"),
                Sort::by("published_at", "desc"),
                Sort::by("id", "asc"),
            ],
        };
        body.continue_after(after, depth);
        body.track_total_hits = true;
        body.highlight = self.q.as_ref().map(|_| Highlight {
            fields: ["title", "skills", "description", "company_name"]
                .iter()
                .map(|f| {
                    (
                        f.to_string(),
                        HighlightField {
                            fragment_size: 150,
                            number_of_fragments: 2,
                        },
                    )
                })
                .collect(),
            pre_tags: vec!["<em>"],
            post_tags: vec!["</em>"],
        });
        body.source = Some(vec!["summary"]);
        body
    }
}

/// Fixed yearly salary bands.
pub const SALARY_BANDS: &[(&str, Option<i64>, Option<i64>)] = &[
    ("under_30k", None, Some(30_000)),
    ("30k_50k", Some(30_000), Some(50_000)),
    ("50k_75k", Some(50_000), Some(75_000)),
    ("75k_100k", Some(75_000), Some(100_000)),
    ("100k_150k", Some(100_000), Some(150_000)),
    ("150k_plus", Some(150_000), None),
];

fn facet_aggs() -> Vec<(&'static str, AggKind)> {
    let terms = |field: &str, size: usize| AggKind::Terms { field: field.into(), size };
    vec![
        ("category", terms("category", 50)),
        ("employment_type", terms("employment_type", 10)),
        ("experience_level", terms("experience_level", 10)),
        ("workplace", terms("workplace", 10)),
        ("company", terms("company_id", 20)),
        (
            "salary_band",
            AggKind::Range {
                field: "salary_mid".into(),
                ranges: SALARY_BANDS
                    .iter()
                    .map(|(key, from, to)| Band {
                        key: key.to_string(),
                        from: *from,
                        to: *to,
                    })
                    .collect(),
            },
        ),
    ]
}

pub const FACETS: &[&str] = &[
    "category",
    "employment_type",
    "experience_level",
    "workplace",
    "company",
    "salary_band",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(q: &[(&str, &str)]) -> ApiResult<JobSearch> {
        let m: HashMap<String, String> = q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        JobSearch::parse(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_sorts() {
        assert_eq!(parse(&[]).unwrap().sort, SortBy::Date);
        assert_eq!(parse(&[("q", "rust")]).unwrap().sort, SortBy::Relevance);
        assert_eq!(parse(&[("q", "rust"), ("sort", "salary")]).unwrap().sort, SortBy::Salary);
    }

    #[test]
    fn bad_parameters_are_reported_together() {
        let e = parse(&[("lat", "91"), ("sort", "cheapest"), ("workplace", "moon"), ("posted_within", "0")]).unwrap_err();
        let body = e.body("r");
        assert_eq!(body["error"], "invalid_filter");
        for k in ["lat", "lon", "radius_km", "sort", "workplace", "posted_within"] {
            assert!(body["details"].get(k).is_some(), "{k}: {body}");
        }
        assert!(parse(&[("sort", "relevance")]).is_err());
        assert!(parse(&[("include_remote", "true")]).is_err());
        // Numbers given empty are refused; texts and choices given empty are absent.
        for k in ["lat", "posted_within"] {
            let body = parse(&[(k, " ")]).unwrap_err().body("r");
            assert!(body["details"].get(k).is_some(), "{k}: {body}");
        }
        assert!(parse(&[("q", ""), ("sort", ""), ("salary_period", "")]).is_ok());
    }

    #[test]
    fn facets_leave_out_their_own_filter() {
        let s = parse(&[("category", "eng"), ("workplace", "remote")]).unwrap();
        let body = serde_json::to_value(s.body(20, None, 0, 0)).unwrap();
        let cat = body["aggs"]["category"]["filter"].to_string();
        assert!(!cat.contains("\"category\"") && cat.contains("remote"), "{cat}");
        let wp = body["aggs"]["workplace"]["filter"].to_string();
        assert!(wp.contains("eng") && !wp.contains("remote"), "{wp}");
    }

    #[test]
    fn all_words_but_one_must_match() {
        let s = parse(&[("q", "senior rust k8s")]).unwrap();
        let q = serde_json::to_value(s.text_query().unwrap()).unwrap();
        assert_eq!(q["bool"]["minimum_should_match"], 2);
        assert!(q.to_string().contains("kubernetes"));
    }
}
