//! Job lists: open jobs (all, by category, by company, featured) with the filters of API.md,
//! and the caller's companies' jobs in any status.
//!
//! Each list reads one index partition newest first. Filters no key serves become a
//! FilterExpression; a page keeps reading (`common::cursor::filtered_page`: at most 5 Query
//! calls of up to 200 items) until it has `limit` matches, and its cursor is the key of the
//! last item it returns, so nothing is skipped or repeated.

use std::collections::HashMap;

use common::api_doc::ErrorBody;
use common::cursor::{filtered_page, page_request, Filter, IndexQuery};
use common::db::{self, n, s};
use common::http::{ok, path_param, query_param, require_role, Request, Response};
use common::token::Role;
use common::{ApiError, ApiResult, App};
use serde::Serialize;
use utoipa::ToSchema;

use crate::rules::{EmploymentType, ExperienceLevel, JobStatus, Workplace};
use crate::JobRules;
use crate::{JobItem, JobView};

/// Values one list-valued filter may have.
/// Values per comma-separated filter (after duplicates are dropped).
pub const MAX_VALUES: usize = 20;
/// One value of a comma-separated text filter (`city`, `skills`, `industry`), at most
/// (characters).
pub const VALUE_MAX: usize = 100;

#[derive(Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    pub next_cursor: Option<String>,
}

/// The filters of GET /jobs (and the other open lists), parsed from the query string.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    pub categories: Vec<String>,
    pub company_ids: Vec<String>,
    pub employment_types: Vec<String>,
    pub experience_levels: Vec<String>,
    pub workplaces: Vec<String>,
    pub countries: Vec<String>,
    pub cities: Vec<String>,
    /// Yearly amounts.
    pub salary_min: Option<u64>,
    pub salary_max: Option<u64>,
    pub currency: Option<String>,
    pub has_salary: bool,
}

fn enum_value<T: serde::de::DeserializeOwned + Serialize>(raw: &str) -> Option<String> {
    let v: T = serde_json::from_value(serde_json::Value::String(raw.to_string())).ok()?;
    serde_json::to_value(v).ok()?.as_str().map(str::to_string)
}

impl Filters {
    /// Parses the query parameters through `get`; problems are a 400 `invalid_filter` with
    /// one entry per parameter.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> ApiResult<Filters> {
        let mut problems: HashMap<&str, String> = HashMap::new();
        let mut f = Filters::lists(&get, &mut problems);
        f.salary(&get, &mut problems);
        if problems.is_empty() {
            Ok(f)
        } else {
            let details: serde_json::Map<String, serde_json::Value> =
                problems.into_iter().map(|(k, v)| (k.to_string(), serde_json::json!([v]))).collect();
            Err(ApiError::bad_request("some filters are not valid")
                .with_code("invalid_filter")
                .with_details(serde_json::Value::Object(details)))
        }
    }

    /// The comma-separated filters: each part trimmed and checked, repeats dropped.
    fn lists(get: &impl Fn(&str) -> Option<String>, problems: &mut HashMap<&'static str, String>) -> Filters {
        let mut list = |name: &'static str, each: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
            let Some(raw) = get(name) else { return vec![] };
            let mut out: Vec<String> = Vec::new();
            for part in common::values::list_parts(&raw) {
                match each(part) {
                    Some(v) if !out.contains(&v) => out.push(v),
                    Some(_) => {}
                    None => {
                        problems.insert(name, format!("\"{part}\" is not a valid value"));
                    }
                }
            }
            if out.len() > MAX_VALUES {
                problems.insert(name, format!("at most {MAX_VALUES} values"));
            }
            out
        };
        let slug = |p: &str| categories::rules::Slug::parse(p).map(|s| s.as_str().to_string());
        let ulid = |p: &str| ulid::Ulid::from_string(p).ok().map(|u| u.to_string());
        let country = |p: &str| {
            let c = p.to_ascii_uppercase();
            (c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
        };
        let city = |p: &str| (p.chars().count() <= VALUE_MAX).then(|| p.to_lowercase());
        Filters {
            categories: list("category", &slug),
            company_ids: list("company_id", &ulid),
            employment_types: list("employment_type", &enum_value::<EmploymentType>),
            experience_levels: list("experience_level", &enum_value::<ExperienceLevel>),
            workplaces: list("workplace", &enum_value::<Workplace>),
            countries: list("country", &country),
            cities: list("city", &city),
            ..Filters::default()
        }
    }

    /// The salary filters: amounts per period made yearly, in one currency.
    fn salary(&mut self, get: &impl Fn(&str) -> Option<String>, problems: &mut HashMap<&'static str, String>) {
        let period = match get("salary_period").as_deref().map(str::trim) {
            None | Some("") | Some("year") => common::values::SalaryPeriod::Year,
            Some("month") => common::values::SalaryPeriod::Month,
            Some("hour") => common::values::SalaryPeriod::Hour,
            Some(_) => {
                problems.insert("salary_period", "must be year, month or hour".into());
                common::values::SalaryPeriod::Year
            }
        };
        let mut amount = |name: &'static str| -> Option<u64> {
            let raw = get(name)?;
            match raw.trim().parse::<u64>() {
                Ok(v) if v <= common::values::SALARY_MAX => Some(crate::rules::yearly(v, period)),
                _ => {
                    problems.insert(name, "must be a whole amount".into());
                    None
                }
            }
        };
        self.salary_min = amount("salary_min");
        self.salary_max = amount("salary_max");
        if let Some(c) = get("currency").filter(|c| !c.trim().is_empty()) {
            let c = c.trim().to_ascii_uppercase();
            if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                self.currency = Some(c);
            } else {
                problems.insert("currency", "must be an ISO 4217 code such as EUR".into());
            }
        }
        self.has_salary = match get("has_salary").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                problems.insert("has_salary", "must be true or false".into());
                false
            }
        };
        let amounts = self.salary_min.is_some() || self.salary_max.is_some();
        if amounts && self.currency.is_none() && !problems.contains_key("currency") {
            problems.insert(
                "currency",
                "is required with salary_min or salary_max (amounts in different currencies do not compare)".into(),
            );
        }
        if let (Some(a), Some(b)) = (self.salary_min, self.salary_max) {
            if a > b {
                problems.insert("salary_min", "must not be greater than salary_max".into());
            }
        }
    }

    /// A canonical text of the filters: cursors are bound to it.
    pub fn context(&self) -> String {
        format!(
            "c={};co={};et={};el={};w={};cn={};ci={};smin={:?};smax={:?};cur={:?};hs={}",
            self.categories.join(","),
            self.company_ids.join(","),
            self.employment_types.join(","),
            self.experience_levels.join(","),
            self.workplaces.join(","),
            self.countries.join(","),
            self.cities.join(","),
            self.salary_min,
            self.salary_max,
            self.currency,
            self.has_salary
        )
    }
}

/// Open now: no deadline, or a deadline still ahead.
pub(crate) fn not_past_deadline(e: &mut Filter, now_secs: i64) {
    let d = e.name("deadline_ts");
    let now = e.value(n(now_secs));
    e.raw(format!("(attribute_not_exists({d}) OR {d} > {now})"));
}

fn status_is(e: &mut Filter, status: JobStatus) {
    e.equals("status", s(status.as_str()));
}

/// The /jobs filters as clauses (the category only when no key serves it).
fn add_filters(e: &mut Filter, f: &Filters, category_served_by_key: bool) {
    if !category_served_by_key {
        e.one_of("category", &f.categories);
    }
    e.one_of("company_id", &f.company_ids);
    e.one_of("employment_type", &f.employment_types);
    e.one_of("experience_level", &f.experience_levels);
    e.one_of("workplace", &f.workplaces);
    e.one_of("country_key", &f.countries);
    e.one_of("city_key", &f.cities);
    let mut salary = Vec::new();
    if let Some(c) = &f.currency {
        let (cur, v) = (e.name("salary_currency"), e.value(s(c)));
        salary.push(format!("{cur} = {v}"));
    }
    if let Some(min) = f.salary_min {
        let (ymax, v) = (e.name("salary_year_max"), e.value(n(min)));
        salary.push(format!("{ymax} >= {v}"));
    }
    if let Some(max) = f.salary_max {
        let (ymin, v) = (e.name("salary_year_min"), e.value(n(max)));
        salary.push(format!("{ymin} <= {v}"));
    }
    match (salary.is_empty(), f.has_salary) {
        (true, false) => {}
        (true, true) => {
            let ymax = e.name("salary_year_max");
            e.raw(format!("attribute_exists({ymax})"))
        }
        (false, true) => e.raw(salary.join(" AND ")),
        (false, false) => {
            let ymax = e.name("salary_year_max");
            e.raw(format!("(attribute_not_exists({ymax}) OR ({}))", salary.join(" AND ")))
        }
    }
}

/// Reads one page of an index partition newest first, keeping jobs that pass `filter`.
/// A filter that rarely drops anything (`selective` false: only the deadline clause) reads
/// `limit` items per Query; others read [`common::cursor::FILTERED_READ`].
async fn read_page(
    app: &App,
    req: &Request,
    context: &str,
    source: (&'static str, String),
    filter: Filter,
    selective: bool,
) -> ApiResult<JobPage> {
    let mut q = IndexQuery::newest_first(source.0, source.1, filter);
    if !selective {
        q.per_read = Some(page_request(app, req, context)?.0);
    }
    let page = filtered_page(app, req, context, q).await?;
    let now = common::time::now_secs();
    let items = page
        .items
        .into_iter()
        .map(|i| db::from_item::<JobItem>(i).map(|j| j.value.job.view(now)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(JobPage {
        items,
        next_cursor: page.next_cursor,
    })
}

fn open_expr(f: &Filters, category_served_by_key: bool) -> Filter {
    let mut e = Filter::default();
    not_past_deadline(&mut e, common::time::now_secs());
    add_filters(&mut e, f, category_served_by_key);
    e
}

fn filters_of(req: &Request) -> ApiResult<Filters> {
    Filters::parse(|k| query_param(req, k))
}

/// Open jobs of `filters`: by category key when exactly one category is asked for.
async fn open_jobs(app: &App, req: &Request, route: &str, f: Filters) -> ApiResult<JobPage> {
    let context = format!("{route}?{}", f.context());
    let (source, by_key) = match f.categories.as_slice() {
        [one] => (("GSI2", crate::open_in_category(one)), true),
        _ => (("GSI1", crate::OPEN.into()), false),
    };
    let filter = open_expr(&f, by_key);
    let selective = filter.len() > 1;
    read_page(app, req, &context, source, filter, selective).await
}

/// GET /jobs
#[utoipa::path(get, path = "/jobs", tag = "jobs",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query),
        ("category" = Option<String>, Query, description = "category slugs, comma-separated"),
        ("company_id" = Option<String>, Query, description = "company ids, comma-separated"),
        ("employment_type" = Option<String>, Query, description = "full_time, part_time, contract, temporary, internship (comma-separated)"),
        ("experience_level" = Option<String>, Query, description = "entry, mid, senior, lead, executive (comma-separated)"),
        ("workplace" = Option<String>, Query, description = "on_site, remote, hybrid (comma-separated)"),
        ("country" = Option<String>, Query, description = "ISO 3166-1 alpha-2 codes, comma-separated"),
        ("city" = Option<String>, Query, description = "city names, comma-separated, any case"),
        ("salary_min" = Option<u64>, Query, description = "range overlap: the job's max is at least this"),
        ("salary_max" = Option<u64>, Query, description = "range overlap: the job's min is at most this"),
        ("currency" = Option<String>, Query, description = "ISO 4217; required with salary_min/salary_max"),
        ("salary_period" = Option<String>, Query, description = "year (default), month or hour: the period of salary_min/salary_max"),
        ("has_salary" = Option<bool>, Query, description = "true: only jobs that state a salary (otherwise jobs without one are kept)")),
    responses((status = 200, description = "open jobs, newest first", body = JobPage),
        (status = 400, description = "`invalid_filter`, `invalid_cursor`, `invalid_limit`", body = ErrorBody)))]
pub async fn list(app: &'static App, req: Request) -> ApiResult<Response> {
    let f = filters_of(&req)?;
    ok(&open_jobs(app, &req, "GET /jobs", f).await?)
}

/// GET /jobs/featured: featured open jobs, newest first (the /jobs filters apply).
#[utoipa::path(get, path = "/jobs/featured", tag = "jobs",
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody)))]
pub async fn featured(app: &'static App, req: Request) -> ApiResult<Response> {
    let f = filters_of(&req)?;
    let context = format!("GET /jobs/featured?{}", f.context());
    let source = ("GSI4", crate::FEATURED.into());
    let filter = open_expr(&f, false);
    let selective = filter.len() > 1;
    ok(&read_page(app, &req, &context, source, filter, selective).await?)
}

/// GET /categories/{slug}/jobs: open jobs in a category (the /jobs filters apply).
#[utoipa::path(get, path = "/categories/{slug}/jobs", tag = "jobs",
    params(("slug" = String, Path), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn of_category_route(app: &'static App, req: Request) -> ApiResult<Response> {
    let missing = || ApiError::not_found("no such category");
    let slug = categories::rules::Slug::parse(&path_param(&req, "slug")?).ok_or_else(missing)?;
    let mut f = filters_of(&req)?;
    f.categories = vec![slug.as_str().to_string()];
    let page = open_jobs(app, &req, "GET /categories/{slug}/jobs", f).await?;
    if page.items.is_empty() && query_param(&req, "cursor").is_none() && categories::get(app, slug.as_str()).await?.is_none() {
        return Err(missing());
    }
    ok(&page)
}

/// GET /companies/{id}/jobs: the company's open jobs, newest first (the /jobs filters apply).
#[utoipa::path(get, path = "/companies/{id}/jobs", tag = "jobs",
    params(("id" = String, Path), ("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn of_company_route(app: &'static App, req: Request) -> ApiResult<Response> {
    let missing = || ApiError::not_found("no such company");
    let id = common::http::id_param(&req, "id", "company")?;
    let id = ulid::Ulid::from_string(&id).map_err(|_| missing())?.to_string();
    let mut f = filters_of(&req)?;
    f.company_ids = vec![];
    let context = format!("GET /companies/{id}/jobs?{}", f.context());
    let mut e = open_expr(&f, false);
    status_is(&mut e, JobStatus::Published);
    let source = ("GSI3", crate::of_company(&id));
    let page = read_page(app, &req, &context, source, e, true).await?;
    if page.items.is_empty() && query_param(&req, "cursor").is_none() && companies::get(app, &id).await?.is_none() {
        return Err(missing());
    }
    ok(&page)
}

/// GET /me/jobs: the caller's company's jobs in any status, newest first.
#[utoipa::path(get, path = "/me/jobs", tag = "jobs", security(("bearer" = [])),
    params(("limit" = Option<i32>, Query), ("cursor" = Option<String>, Query),
        ("company_id" = Option<String>, Query, description = "required when the caller belongs to several companies"),
        ("status" = Option<String>, Query, description = "draft, published, closed, expired or suspended")),
    responses((status = 200, body = JobPage), (status = 400, description = "`invalid_filter`, `company_required`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "not a member of that company", body = ErrorBody)))]
pub async fn mine(app: &'static App, req: Request) -> ApiResult<Response> {
    let actor = require_role(app, &req, &[Role::Employer]).await?;
    let status = match query_param(&req, "status").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(serde_json::from_value::<JobStatus>(serde_json::Value::String(raw)).map_err(|_| {
            ApiError::bad_request("status must be draft, published, closed, expired or suspended").with_code("invalid_filter")
        })?),
    };
    let Some(company) = companies::of_caller(app, &actor.user_id, query_param(&req, "company_id")).await? else {
        // No company, no jobs: the paging parameters are still checked (no cursor opens
        // this empty list).
        common::cursor::page_request(app, &req, &format!("GET /me/jobs?{}", actor.user_id))?;
        return ok(&JobPage {
            items: vec![],
            next_cursor: None,
        });
    };
    let context = format!("GET /me/jobs?{}&{company}&{status:?}", actor.user_id);
    let mut e = Filter::default();
    let now = common::time::now_secs();
    match status {
        None => {}
        Some(JobStatus::Published) => {
            status_is(&mut e, JobStatus::Published);
            not_past_deadline(&mut e, now);
        }
        Some(JobStatus::Expired) => {
            let (st, d) = (e.name("status"), e.name("deadline_ts"));
            let (exp, publ, nowv) = (e.value(s("expired")), e.value(s("published")), e.value(n(now)));
            e.raw(format!("({st} = {exp} OR ({st} = {publ} AND {d} <= {nowv}))"));
        }
        Some(other) => status_is(&mut e, other),
    }
    let source = ("GSI3", crate::of_company(&company));
    ok(&read_page(app, &req, &context, source, e, status.is_some()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> ApiResult<Filters> {
        let m: HashMap<String, String> = q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Filters::parse(|k| m.get(k).cloned())
    }

    #[test]
    fn filters_parse_lists_and_salary() {
        let f = parse(&[
            ("employment_type", "full_time, contract,full_time"),
            ("workplace", "remote"),
            ("country", "de,nl"),
            ("city", "Berlin"),
            ("salary_min", "4000"),
            ("salary_period", "month"),
            ("currency", "eur"),
        ])
        .unwrap();
        assert_eq!(f.employment_types, vec!["full_time", "contract"]);
        assert_eq!(f.countries, vec!["DE", "NL"]);
        assert_eq!(f.cities, vec!["berlin"]);
        assert_eq!(f.salary_min, Some(48_000));
        assert_eq!(f.currency.as_deref(), Some("EUR"));
        assert_ne!(f.context(), Filters::default().context());
    }

    #[test]
    fn bad_filters_are_400_with_every_problem() {
        let e = parse(&[
            ("workplace", "moon"),
            ("salary_min", "-3"),
            ("country", "Germany"),
            ("has_salary", "yes"),
        ])
        .unwrap_err();
        let body = e.body("r");
        assert_eq!(body["error"], "invalid_filter");
        for k in ["workplace", "salary_min", "country", "has_salary"] {
            assert!(body["details"].get(k).is_some(), "{k}: {body}");
        }
        assert!(parse(&[("salary_min", "10")]).is_err(), "amounts need a currency");
        assert!(parse(&[("salary_min", "10"), ("salary_max", "5"), ("currency", "EUR")]).is_err());
        let many = (0..21).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        assert!(parse(&[("category", &many)]).is_err());
    }

    #[test]
    fn salary_filter_keeps_jobs_without_salary_unless_asked() {
        let f = parse(&[("salary_min", "50000"), ("currency", "EUR")]).unwrap();
        let mut e = Filter::default();
        add_filters(&mut e, &f, false);
        let expr = e.into_parts().0.unwrap();
        assert!(expr.starts_with("(attribute_not_exists(#salary_year_max) OR"), "{expr}");
        let f = parse(&[("salary_min", "50000"), ("currency", "EUR"), ("has_salary", "true")]).unwrap();
        let mut e = Filter::default();
        add_filters(&mut e, &f, false);
        assert!(!e.into_parts().0.unwrap().contains("attribute_not_exists"));
    }
}
