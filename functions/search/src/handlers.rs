//! The search routes: jobs (full text, filters, facets, highlights), suggestions as you
//! type, companies, and candidates for employers. Each answers with one engine request.

use std::collections::BTreeMap;

use common::api_doc::ErrorBody;
use common::db::{n, s, Item};
use common::http::{ok, query_param, require_role, Request, Response};
use common::token::Role;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::docs::{CandidateSummary, CompanySummary, Geo, JobSummary};
use crate::engine;
use crate::mappings::IndexKind;
use crate::params::{JobSearch, FACETS, MAX_DEPTH, MAX_LIMIT};
use crate::query::{Bool, Collapse, MultiMatch, Query, SearchBody, SearchResponse, Sort};

/// Where a page starts: its size, the sort values of the previous page's last hit, and how
/// many results came before.
pub struct Paging {
    pub size: usize,
    pub after: Option<Vec<Value>>,
    pub depth: usize,
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("the cursor is not valid for this search").with_code("invalid_cursor")
}

/// `limit` (1-50, default 20) and the sealed `cursor` of a search bound to `context`.
pub fn paging(app: &App, req: &Request, context: &str) -> ApiResult<Paging> {
    let size = match query_param(req, "limit").filter(|l| !l.trim().is_empty()) {
        None => 20,
        Some(l) => match l.trim().parse::<usize>() {
            Ok(v) if (1..=MAX_LIMIT).contains(&v) => v,
            _ => {
                return Err(ApiError::bad_request(format!("limit must be a whole number from 1 to {MAX_LIMIT}")).with_code("invalid_limit"))
            }
        },
    };
    let Some(cursor) = query_param(req, "cursor").filter(|c| !c.is_empty()) else {
        return Ok(Paging {
            size,
            after: None,
            depth: 0,
        });
    };
    let item = app.cursors().decode(context, &cursor)?;
    let after = common::db::get_s(&item, "a").and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok());
    let depth = common::db::get_n(&item, "d").filter(|d| *d >= 0);
    match (after, depth) {
        (Some(after), Some(depth)) => Ok(Paging {
            size: size.min(MAX_DEPTH.saturating_sub(depth as usize)),
            after: Some(after),
            depth: depth as usize,
        }),
        _ => Err(bad_cursor()),
    }
}

/// The cursor after a full page, unless the search is at its deepest.
pub fn next_cursor(app: &App, context: &str, paging: &Paging, got: usize, last_sort: Option<&Vec<Value>>) -> Option<String> {
    let depth = paging.depth + got;
    if got < paging.size || depth >= MAX_DEPTH {
        return None;
    }
    let last = last_sort?;
    let item: Item = [("a".to_string(), s(serde_json::to_string(last).ok()?)), ("d".to_string(), n(depth))]
        .into_iter()
        .collect();
    Some(app.cursors().encode(context, &item))
}

#[derive(Serialize, ToSchema)]
pub struct JobHit {
    #[serde(flatten)]
    pub job: JobSummary,
    /// Field -> fragments with the matched words in `<em>`.
    pub highlights: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct JobSearchPage {
    pub items: Vec<JobHit>,
    pub next_cursor: Option<String>,
    /// Matches in all (at most 1000 can be paged through).
    pub total: u64,
    /// Counts per value of category, employment_type, experience_level, workplace, company
    /// (top 20) and salary_band, each honouring every other active filter.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    /// Identifies this search (for click tracking).
    pub search_id: String,
}

#[derive(Deserialize)]
struct Stored<T> {
    summary: T,
}

fn facets_of(aggs: Option<&Value>) -> BTreeMap<String, Vec<FacetCount>> {
    let mut out = BTreeMap::new();
    for facet in FACETS {
        let buckets = aggs.and_then(|a| a[*facet]["v"]["buckets"].as_array().cloned()).unwrap_or_default();
        let counts = buckets
            .iter()
            .filter_map(|b| {
                let value = match &b["key"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let count = b["doc_count"].as_u64()?;
                (count > 0 || *facet == "salary_band").then_some(FacetCount { value, count })
            })
            .collect();
        out.insert(facet.to_string(), counts);
    }
    out
}

/// GET /search/jobs
#[utoipa::path(get, path = "/search/jobs", tag = "search",
    params(("q" = Option<String>, Query, description = "full text over title, skills, company, category and description; typo tolerant; abbreviations expand (k8s, sre, js, ...)"),
        ("category" = Option<String>, Query), ("company_id" = Option<String>, Query), ("employment_type" = Option<String>, Query),
        ("experience_level" = Option<String>, Query), ("workplace" = Option<String>, Query), ("country" = Option<String>, Query),
        ("city" = Option<String>, Query), ("salary_min" = Option<u64>, Query), ("salary_max" = Option<u64>, Query),
        ("currency" = Option<String>, Query), ("salary_period" = Option<String>, Query), ("has_salary" = Option<bool>, Query),
        ("lat" = Option<f64>, Query), ("lon" = Option<f64>, Query), ("radius_km" = Option<f64>, Query),
        ("include_remote" = Option<bool>, Query, description = "with a radius: remote jobs too"),
        ("location" = Option<String>, Query, description = "place text: \"London\", \"London, United Kingdom\", \"GB\""),
        ("posted_within" = Option<u32>, Query, description = "days"),
        ("sort" = Option<String>, Query, description = "relevance (default with q), date (default without), salary"),
        ("limit" = Option<i32>, Query, description = "1-50"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = JobSearchPage),
        (status = 400, description = "`invalid_filter` (details per parameter), `invalid_cursor`, `invalid_limit`", body = ErrorBody)))]
pub async fn jobs(app: &'static App, req: Request) -> ApiResult<Response> {
    let search = JobSearch::parse(|k| query_param(&req, k))?;
    let context = format!("search/jobs?{}", search.context());
    let paging = paging(app, &req, &context)?;
    let body = search.body(paging.size, paging.after.clone(), paging.depth, common::time::now_secs());
    let res: SearchResponse<Stored<JobSummary>> = engine::search(app, IndexKind::Jobs, &body).await?;
    let next = next_cursor(
        app,
        &context,
        &paging,
        res.hits.hits.len(),
        res.hits.hits.last().and_then(|h| h.sort.as_ref()),
    );
    let page = JobSearchPage {
        total: res.hits.total.map(|t| t.value).unwrap_or_default(),
        facets: facets_of(res.aggregations.as_ref()),
        items: res
            .hits
            .hits
            .into_iter()
            .map(|h| JobHit {
                job: h.source.summary,
                highlights: h.highlight.unwrap_or_default(),
            })
            .collect(),
        next_cursor: next,
        search_id: ulid::Ulid::new().to_string(),
    };
    ok(&page)
}

#[derive(Serialize, ToSchema, PartialEq, Eq, Debug)]
pub struct Suggestion {
    pub text: String,
    /// `title`, `company` or `skill`.
    pub kind: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SuggestSource {
    title: String,
    company_name: String,
    skills: Vec<String>,
}

fn prefix_query(q: &str, fields: &[&str]) -> Query {
    Query::MultiMatch(MultiMatch {
        query: q.to_string(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        kind: Some("bool_prefix"),
        fuzziness: Some("AUTO"),
        prefix_length: Some(1),
        operator: Some("and"),
    })
}

/// GET /search/suggest
#[utoipa::path(get, path = "/search/suggest", tag = "search",
    params(("q" = String, Query, description = "what has been typed (from 2 characters; fewer give no suggestions)")),
    responses((status = 200, body = Suggestions), (status = 400, body = ErrorBody)))]
pub async fn suggest(app: &'static App, req: Request) -> ApiResult<Response> {
    let q = query_param(&req, "q").map(|q| q.trim().to_string()).unwrap_or_default();
    if q.chars().count() > 100 {
        return Err(ApiError::invalid_field("q", "at most 100 characters"));
    }
    if q.chars().count() < 2 {
        return ok(&Suggestions { suggestions: vec![] });
    }
    let titles = {
        let mut b = SearchBody::new(
            prefix_query(&q, &["title_suggest", "title_suggest._2gram", "title_suggest._3gram"]),
            10,
        );
        b.collapse = Some(Collapse { field: "title_key".into() });
        b.source = Some(vec!["title"]);
        b
    };
    let companies = {
        let mut b = SearchBody::new(prefix_query(&q, &["company_name"]), 5);
        b.collapse = Some(Collapse {
            field: "company_key".into(),
        });
        b.source = Some(vec!["company_name"]);
        b
    };
    let lower = q.to_lowercase();
    let skills = {
        let mut b = SearchBody::new(
            Query::any_of(vec![
                Query::Prefix(BTreeMap::from([("skill_keys".to_string(), lower.clone())])),
                Query::matches("skills", &q, None, Some("AUTO")),
            ]),
            20,
        );
        b.source = Some(vec!["skills"]);
        b
    };
    let answers = engine::msearch(app, IndexKind::Jobs, &[titles, companies, skills]).await?;
    let sources = |i: usize| -> Vec<SuggestSource> {
        answers
            .get(i)
            .and_then(|a| a["hits"]["hits"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|h| serde_json::from_value(h["_source"].clone()).ok())
            .collect()
    };
    let mut out = Vec::new();
    out.extend(
        sources(0)
            .into_iter()
            .map(|s| Suggestion {
                text: s.title,
                kind: "title",
            })
            .take(6),
    );
    out.extend(
        sources(1)
            .into_iter()
            .map(|s| Suggestion {
                text: s.company_name,
                kind: "company",
            })
            .take(3),
    );
    let close = |skill: &str| {
        let k = skill.to_lowercase();
        k.starts_with(&lower) || k.split_whitespace().any(|w| w.starts_with(&lower)) || strsim_close(&k, &lower)
    };
    out.extend(
        sources(2)
            .into_iter()
            .flat_map(|s| s.skills)
            .filter(|k| close(k))
            .map(|text| Suggestion { text, kind: "skill" })
            .take(10),
    );
    ok(&Suggestions {
        suggestions: dedupe(out, 10),
    })
}

/// One edit apart at most (a typo while typing a skill).
fn strsim_close(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().take(b.chars().count()).collect();
    let b: Vec<char> = b.chars().collect();
    a.len() == b.len() && a.iter().zip(&b).filter(|(x, y)| x != y).count() <= 1 && b.len() >= 4
}

/// Case-insensitively distinct, in order, at most `max`.
pub fn dedupe(items: Vec<Suggestion>, max: usize) -> Vec<Suggestion> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|s| !s.text.trim().is_empty() && seen.insert(s.text.to_lowercase()))
        .take(max)
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct CompanySearchPage {
    pub items: Vec<CompanySummary>,
    pub next_cursor: Option<String>,
}

fn list_param(req: &Request, name: &str, problems: &mut common::error::Problems, each: fn(&str) -> Option<String>) -> Vec<String> {
    let Some(raw) = query_param(req, name) else { return vec![] };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match each(part) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => problems.add(name, &format!("\"{part}\" is not a valid value")),
        }
    }
    if out.len() > 20 {
        problems.add(name, "at most 20 values");
    }
    out
}

fn country(p: &str) -> Option<String> {
    let c = p.to_ascii_uppercase();
    (c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
}

fn lower_text(p: &str) -> Option<String> {
    (p.chars().count() <= 100).then(|| p.to_lowercase())
}

/// GET /search/companies
#[utoipa::path(get, path = "/search/companies", tag = "search",
    params(("q" = Option<String>, Query, description = "company name, typo tolerant"), ("industry" = Option<String>, Query, description = "comma-separated, any case"),
        ("country" = Option<String>, Query, description = "ISO 3166-1 alpha-2, comma-separated"),
        ("limit" = Option<i32>, Query, description = "1-50"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = CompanySearchPage), (status = 400, body = ErrorBody)))]
pub async fn companies(app: &'static App, req: Request) -> ApiResult<Response> {
    let mut p = common::error::Problems::default();
    let q = query_param(&req, "q").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        p.add("q", "at most 100 characters");
    }
    let industries = list_param(&req, "industry", &mut p, lower_text);
    let countries = list_param(&req, "country", &mut p, country);
    p.into_result().map_err(|e| e.with_code("invalid_filter"))?;
    let context = format!("search/companies?{q:?};{industries:?};{countries:?}");
    let paging = paging(app, &req, &context)?;
    let text = q.as_ref().map(|q| {
        Query::MultiMatch(MultiMatch {
            query: q.clone(),
            fields: vec!["name^3".into(), "industry_text".into()],
            kind: None,
            fuzziness: Some("AUTO"),
            prefix_length: Some(1),
            operator: Some("and"),
        })
    });
    let mut filter = Vec::new();
    if !industries.is_empty() {
        filter.push(Query::terms("industry", &industries));
    }
    if !countries.is_empty() {
        filter.push(Query::terms("country", &countries));
    }
    let mut body = SearchBody::new(
        Query::Bool(Box::new(Bool {
            must: text.into_iter().collect(),
            filter,
            ..Bool::default()
        })),
        paging.size,
    );
    body.sort = match q {
        Some(_) => vec![Sort::score(), Sort::by("open_jobs", "desc"), Sort::by("id", "asc")],
        None => vec![Sort::by("open_jobs", "desc"), Sort::by("name_key", "asc"), Sort::by("id", "asc")],
    };
    body.continue_after(paging.after.clone(), paging.depth);
    body.source = Some(vec!["summary"]);
    let res: SearchResponse<Stored<CompanySummary>> = engine::search(app, IndexKind::Companies, &body).await?;
    let next = next_cursor(
        app,
        &context,
        &paging,
        res.hits.hits.len(),
        res.hits.hits.last().and_then(|h| h.sort.as_ref()),
    );
    ok(&CompanySearchPage {
        items: res.hits.hits.into_iter().map(|h| h.source.summary).collect(),
        next_cursor: next,
    })
}

#[derive(Serialize, ToSchema)]
pub struct CandidatePage {
    pub items: Vec<CandidateSummary>,
    pub next_cursor: Option<String>,
}

/// GET /candidates
#[utoipa::path(get, path = "/candidates", tag = "search", security(("bearer" = [])),
    params(("q" = Option<String>, Query, description = "headline, skills and experience titles, typo tolerant"),
        ("skills" = Option<String>, Query, description = "all of these skills (comma-separated, any case)"),
        ("country" = Option<String>, Query), ("city" = Option<String>, Query),
        ("lat" = Option<f64>, Query), ("lon" = Option<f64>, Query), ("radius_km" = Option<f64>, Query),
        ("experience_level" = Option<String>, Query, description = "entry, mid, senior, lead, executive (comma-separated; from years of experience)"),
        ("limit" = Option<i32>, Query, description = "1-50"), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "public, available seekers; nothing but these fields", body = CandidatePage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, description = "seekers may not search candidates", body = ErrorBody)))]
pub async fn candidates(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer, Role::Admin])?;
    auth::account::require_live(app, &me).await?;
    let mut p = common::error::Problems::default();
    let q = query_param(&req, "q").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        p.add("q", "at most 200 characters");
    }
    let skills = list_param(&req, "skills", &mut p, lower_text);
    let countries = list_param(&req, "country", &mut p, country);
    let cities = list_param(&req, "city", &mut p, lower_text);
    let levels = list_param(&req, "experience_level", &mut p, |l| {
        ["entry", "mid", "senior", "lead", "executive"].contains(&l).then(|| l.to_string())
    });
    let geo = match JobSearch::parse(|k| ["lat", "lon", "radius_km"].contains(&k).then(|| query_param(&req, k)).flatten()) {
        Ok(s) => s.radius,
        Err(e) => {
            if let Some(Value::Object(d)) = e.body("").get("details") {
                for k in d.keys() {
                    p.add(k, "lat, lon and radius_km are numbers in range and go together");
                }
            }
            None
        }
    };
    p.into_result().map_err(|e| e.with_code("invalid_filter"))?;
    let context = format!("candidates?{q:?};{skills:?};{countries:?};{cities:?};{levels:?};{geo:?}");
    let paging = paging(app, &req, &context)?;
    let mut filter: Vec<Query> = skills.iter().map(|s| Query::term("skill_keys", s.as_str())).collect();
    for (field, values) in [("country", &countries), ("city", &cities), ("experience_level", &levels)] {
        if !values.is_empty() {
            filter.push(Query::terms(field, values));
        }
    }
    if let Some(r) = geo {
        filter.push(Query::within(
            "geo",
            Geo {
                lat: r.at.lat,
                lon: r.at.lon,
            },
            r.km,
        ));
    }
    let text = q.as_ref().map(|q| {
        Query::MultiMatch(MultiMatch {
            query: q.clone(),
            fields: vec!["headline^2".into(), "skills^3".into(), "experience_titles".into()],
            kind: None,
            fuzziness: Some("AUTO"),
            prefix_length: Some(1),
            operator: None,
        })
    });
    let mut body = SearchBody::new(
        Query::Bool(Box::new(Bool {
            must: text.into_iter().collect(),
            filter,
            ..Bool::default()
        })),
        paging.size,
    );
    body.sort = match q {
        Some(_) => vec![Sort::score(), Sort::by("user_id", "asc")],
        None => vec![Sort::by("user_id", "desc")],
    };
    body.continue_after(paging.after.clone(), paging.depth);
    body.source = Some(vec!["summary"]);
    let res: SearchResponse<Stored<CandidateSummary>> = engine::search(app, IndexKind::Candidates, &body).await?;
    let next = next_cursor(
        app,
        &context,
        &paging,
        res.hits.hits.len(),
        res.hits.hits.last().and_then(|h| h.sort.as_ref()),
    );
    ok(&CandidatePage {
        items: res.hits.hits.into_iter().map(|h| h.source.summary).collect(),
        next_cursor: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_distinct_and_bounded() {
        let s = |t: &str, kind| Suggestion { text: t.into(), kind };
        let out = dedupe(
            vec![
                s("Rust Developer", "title"),
                s("rust developer", "skill"),
                s("Rust", "skill"),
                s(" ", "title"),
            ],
            10,
        );
        assert_eq!(out, vec![s("Rust Developer", "title"), s("Rust", "skill")]);
        assert!(strsim_close("python", "pyth0"));
        assert!(!strsim_close("python", "java"));
    }
}
