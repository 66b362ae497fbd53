//! The search routes: jobs (full text, filters, facets, highlights), companies, and
//! candidates for employers. Each answers with one engine request.

use std::collections::BTreeMap;

use common::api_doc::ErrorBody;
use common::http::{ok, query_param, require_role, Request, Response};
use common::token::Role;
use common::{ApiResult, App};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::docs::{CandidateSummary, CompanySummary, JobSummary};
use crate::engine;
use crate::mappings::IndexKind;
use crate::paging::{next_cursor, paging, Paging};
use crate::params::{JobSearch, FACETS};
use crate::query::{Bool, Query, SearchBody, SearchResponse, Sort};

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
    /// Identifies this search: report clicks on its results with POST /search/clicks (or a
    /// `search_click` event).
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
    )?;
    let total = res.hits.total.map(|t| t.value).unwrap_or_default();
    let search_id = record_search(app, &req, search.q.as_deref(), total).await?;
    let page = JobSearchPage {
        total,
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
        search_id,
    };
    ok(&page)
}

/// Hands the search to analytics (normalised query, the filters used, the result count;
/// not for known bots nor for later pages of the same search) and returns its id, which
/// names the query for click tracking. Analytics failing never fails a search.
async fn record_search(app: &App, req: &Request, q: Option<&str>, results: u64) -> ApiResult<String> {
    use common::analytics::{self, Ingest, Visitor};
    let query = analytics::normalise_query(q.unwrap_or_default());
    let query_hash = analytics::query_hash(app, &query)?;
    let search_id = analytics::search_id(&query_hash);
    let visitor = Visitor::of(app, req, None)?;
    if visitor.bot || query_param(req, "cursor").is_some() {
        return Ok(search_id);
    }
    let filters = crate::params::NAMES
        .iter()
        .filter(|n| !matches!(**n, "q" | "sort") && query_param(req, n).is_some())
        .map(|n| n.to_string())
        .collect();
    let message = Ingest::Search {
        id: ulid::Ulid::new().to_string(),
        at: common::time::now_secs(),
        query_hash,
        query,
        filters,
        results,
        visitor: visitor.visitor,
        user: visitor.user,
    };
    if let Err(e) = analytics::send(app, &message).await {
        tracing::error!(error = %e, "recording a search for analytics failed");
    }
    Ok(search_id)
}
/// One page of an index's stored summaries: `text` must match (if any), `filter` narrows.
async fn summaries<T: serde::de::DeserializeOwned>(
    app: &App,
    kind: IndexKind,
    context: &str,
    paging: &Paging,
    text: Option<Query>,
    filter: Vec<Query>,
    sort: Vec<Sort>,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let query = Query::Bool(Box::new(Bool {
        must: text.into_iter().collect(),
        filter,
        ..Bool::default()
    }));
    let mut body = SearchBody::new(query, paging.size);
    body.sort = sort;
    body.continue_after(paging.after.clone(), paging.depth);
    body.source = Some(vec!["summary"]);
    let res: SearchResponse<Stored<T>> = engine::search(app, kind, &body).await?;
    let next = next_cursor(
        app,
        context,
        paging,
        res.hits.hits.len(),
        res.hits.hits.last().and_then(|h| h.sort.as_ref()),
    )?;
    Ok((res.hits.hits.into_iter().map(|h| h.source.summary).collect(), next))
}

#[derive(Serialize, ToSchema)]
pub struct CompanySearchPage {
    pub items: Vec<CompanySummary>,
    pub next_cursor: Option<String>,
}

fn list_param(req: &Request, name: &str, problems: &mut common::error::Problems, each: fn(&str) -> Option<String>) -> Vec<String> {
    let Some(raw) = query_param(req, name) else { return vec![] };
    let mut out = Vec::new();
    for part in common::values::list_parts(&raw) {
        match each(part) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => problems.add(name, &format!("\"{part}\" is not a valid value")),
        }
    }
    if out.len() > jobs::listing::MAX_VALUES {
        problems.add(name, &format!("at most {} values", jobs::listing::MAX_VALUES));
    }
    out
}

fn country(p: &str) -> Option<String> {
    let c = p.to_ascii_uppercase();
    (c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
}

fn lower_text(p: &str) -> Option<String> {
    (p.chars().count() <= jobs::listing::VALUE_MAX).then(|| p.to_lowercase())
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
    if q.as_ref().is_some_and(|q| q.chars().count() > crate::params::SHORT_Q_MAX) {
        p.add("q", &format!("at most {} characters", crate::params::SHORT_Q_MAX));
    }
    let industries = list_param(&req, "industry", &mut p, lower_text);
    let countries = list_param(&req, "country", &mut p, country);
    p.into_result().map_err(|e| e.with_code("invalid_filter"))?;
    let context = format!("search/companies?{q:?};{industries:?};{countries:?}");
    let paging = paging(app, &req, &context)?;
    let text = q.as_ref().map(|q| Query::fuzzy(q, &["name^3", "industry_text"], Some("and")));
    let mut filter = Vec::new();
    if !industries.is_empty() {
        filter.push(Query::terms("industry", &industries));
    }
    if !countries.is_empty() {
        filter.push(Query::terms("country", &countries));
    }
    let sort = match q {
        Some(_) => vec![Sort::score(), Sort::by("open_jobs", "desc"), Sort::by("id", "asc")],
        None => vec![Sort::by("open_jobs", "desc"), Sort::by("name_key", "asc"), Sort::by("id", "asc")],
    };
    let (items, next_cursor) = summaries(app, IndexKind::Companies, &context, &paging, text, filter, sort).await?;
    ok(&CompanySearchPage { items, next_cursor })
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
    require_role(app, &req, &[Role::Employer, Role::Admin]).await?;
    let mut p = common::error::Problems::default();
    let q = query_param(&req, "q").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > crate::params::Q_MAX) {
        p.add("q", &format!("at most {} characters", crate::params::Q_MAX));
    }
    let skills = list_param(&req, "skills", &mut p, lower_text);
    let countries = list_param(&req, "country", &mut p, country);
    let cities = list_param(&req, "city", &mut p, lower_text);
    let levels = list_param(&req, "experience_level", &mut p, |l| {
        ["entry", "mid", "senior", "lead", "executive"].contains(&l).then(|| l.to_string())
    });
    let mut geo_problems = std::collections::BTreeMap::new();
    let geo = crate::params::radius(|k| query_param(&req, k), &mut geo_problems);
    for (k, v) in &geo_problems {
        p.add(k, v);
    }
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
        filter.push(Query::within("geo", r.at, r.km));
    }
    let text = q
        .as_ref()
        .map(|q| Query::fuzzy(q, &["headline^2", "skills^3", "experience_titles"], None));
    let sort = match q {
        Some(_) => vec![Sort::score(), Sort::by("user_id", "asc")],
        None => vec![Sort::by("user_id", "desc")],
    };
    let (items, next_cursor) = summaries(app, IndexKind::Candidates, &context, &paging, text, filter, sort).await?;
    ok(&CandidatePage { items, next_cursor })
}
