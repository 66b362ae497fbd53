//! Job lists: open jobs (all, by category, by company, featured) with the filters of API.md,
//! and the caller's companies' jobs in any status.
//!
//! Each list reads one index partition newest first. Filters no key serves become a
//! FilterExpression; a page keeps reading (at most [`MAX_READS`] Query calls of up to
//! [`FILTERED_READ`] items) until it has `limit` matches, and its cursor is the key of the
//! last item it returns, so nothing is skipped or repeated.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use common::api_doc::ErrorBody;
use common::cursor::{next_cursor, page_request};
use common::db::{self, n, s, Item};
use common::http::{ok, path_param, query_param, require_role, Request, Response};
use common::token::Role;
use common::{ApiError, ApiResult, App};
use serde::Serialize;
use utoipa::ToSchema;

use crate::rules::{EmploymentType, ExperienceLevel, JobStatus, Workplace};
use crate::{JobItem, JobView};

/// Query calls one page may make when a filter drops items.
pub const MAX_READS: usize = 5;
/// Items one filtered Query call evaluates.
pub const FILTERED_READ: i32 = 200;
/// Values one list-valued filter may have.
const MAX_VALUES: usize = 20;

#[derive(Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    pub next_cursor: Option<String>,
}

/// The filters of GET /jobs (and the other open lists), parsed from the query string.
#[derive(Debug, Default, PartialEq)]
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
        let mut list = |name: &'static str, each: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
            let Some(raw) = get(name) else { return vec![] };
            let mut out: Vec<String> = Vec::new();
            for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
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
        let city = |p: &str| (p.chars().count() <= 100).then(|| p.to_lowercase());
        let mut f = Filters {
            categories: list("category", &slug),
            company_ids: list("company_id", &ulid),
            employment_types: list("employment_type", &enum_value::<EmploymentType>),
            experience_levels: list("experience_level", &enum_value::<ExperienceLevel>),
            workplaces: list("workplace", &enum_value::<Workplace>),
            countries: list("country", &country),
            cities: list("city", &city),
            ..Filters::default()
        };
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
                Ok(v) if v <= 1_000_000_000 => Some(crate::rules::yearly(v, period)),
                _ => {
                    problems.insert(name, "must be a whole amount".into());
                    None
                }
            }
        };
        f.salary_min = amount("salary_min");
        f.salary_max = amount("salary_max");
        if let Some(c) = get("currency").filter(|c| !c.trim().is_empty()) {
            let c = c.trim().to_ascii_uppercase();
            if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                f.currency = Some(c);
            } else {
                problems.insert("currency", "must be an ISO 4217 code such as EUR".into());
            }
        }
        f.has_salary = match get("has_salary").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                problems.insert("has_salary", "must be true or false".into());
                false
            }
        };
        if (f.salary_min.is_some() || f.salary_max.is_some()) && f.currency.is_none() && !problems.contains_key("currency") {
            problems.insert(
                "currency",
                "is required with salary_min or salary_max (amounts in different currencies do not compare)".into(),
            );
        }
        if let (Some(a), Some(b)) = (f.salary_min, f.salary_max) {
            if a > b {
                problems.insert("salary_min", "must not be greater than salary_max".into());
            }
        }
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

/// A FilterExpression under construction.
#[derive(Default)]
pub(crate) struct Expr {
    clauses: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        let key = format!("#{attr}");
        self.names.insert(key.clone(), attr.to_string());
        key
    }
    fn value(&mut self, v: AttributeValue) -> String {
        let key = format!(":v{}", self.values.len());
        self.values.insert(key.clone(), v);
        key
    }
    fn one_of(&mut self, attr: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let name = self.name(attr);
        let vals = values.iter().map(|v| self.value(s(v))).collect::<Vec<_>>().join(", ");
        self.clauses.push(format!("{name} IN ({vals})"));
    }
    fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    /// Open now: no deadline, or a deadline still ahead.
    pub(crate) fn not_past_deadline(&mut self, now_secs: i64) {
        let d = self.name("deadline_ts");
        let now = self.value(n(now_secs));
        self.raw(format!("(attribute_not_exists({d}) OR {d} > {now})"));
    }
    pub(crate) fn status_is(&mut self, status: JobStatus) {
        let st = self.name("status");
        let v = self.value(s(status.as_str()));
        self.raw(format!("{st} = {v}"));
    }
    fn filters(&mut self, f: &Filters, category_served_by_key: bool) {
        if !category_served_by_key {
            self.one_of("category", &f.categories);
        }
        self.one_of("company_id", &f.company_ids);
        self.one_of("employment_type", &f.employment_types);
        self.one_of("experience_level", &f.experience_levels);
        self.one_of("workplace", &f.workplaces);
        self.one_of("country_key", &f.countries);
        self.one_of("city_key", &f.cities);
        let mut salary = Vec::new();
        if let Some(c) = &f.currency {
            let (cur, v) = (self.name("salary_currency"), self.value(s(c)));
            salary.push(format!("{cur} = {v}"));
        }
        if let Some(min) = f.salary_min {
            let (ymax, v) = (self.name("salary_year_max"), self.value(n(min)));
            salary.push(format!("{ymax} >= {v}"));
        }
        if let Some(max) = f.salary_max {
            let (ymin, v) = (self.name("salary_year_min"), self.value(n(max)));
            salary.push(format!("{ymin} <= {v}"));
        }
        if salary.is_empty() && !f.has_salary {
            return;
        }
        match (salary.is_empty(), f.has_salary) {
            (true, true) => {
                let ymax = self.name("salary_year_max");
                self.raw(format!("attribute_exists({ymax})"))
            }
            (true, false) => {}
            (false, true) => self.raw(salary.join(" AND ")),
            (false, false) => {
                let ymax = self.name("salary_year_max");
                self.raw(format!("(attribute_not_exists({ymax}) OR ({}))", salary.join(" AND ")))
            }
        }
    }
    fn is_selective(&self) -> bool {
        self.clauses.len() > 1
    }
}

/// Which index partition a list reads.
pub(crate) struct Source {
    pub index: &'static str,
    pub key: String,
}

impl Source {
    fn names(&self) -> (String, String) {
        (format!("{}PK", self.index), format!("{}SK", self.index))
    }
}

/// Reads one page of `source` newest first, keeping items that pass `expr`.
pub(crate) async fn read_page(app: &App, req: &Request, context: &str, source: Source, expr: Expr) -> ApiResult<JobPage> {
    let (limit, mut start) = page_request(app, req, context)?;
    let limit = limit as usize;
    let (pk_name, sk_name) = source.names();
    let per_read = if expr.is_selective() {
        FILTERED_READ.max(limit as i32)
    } else {
        limit as i32
    };
    let filter = (!expr.clauses.is_empty()).then(|| expr.clauses.join(" AND "));
    let mut names = expr.names;
    names.insert("#k".into(), pk_name.clone());
    let mut values = expr.values;
    values.insert(":k".into(), s(&source.key));

    let mut kept: Vec<Item> = Vec::with_capacity(limit);
    let mut next: Option<Item> = None;
    for read in 1..=MAX_READS {
        let out = app
            .dynamo()
            .query()
            .table_name(app.table())
            .index_name(source.index)
            .key_condition_expression("#k = :k")
            .set_filter_expression(filter.clone())
            .set_expression_attribute_names(Some(names.clone()))
            .set_expression_attribute_values(Some(values.clone()))
            .scan_index_forward(false)
            .limit(per_read)
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        let mut matched = out.items.unwrap_or_default().into_iter();
        for item in matched.by_ref() {
            kept.push(item);
            if kept.len() == limit {
                break;
            }
        }
        let more_here = matched.next().is_some();
        if kept.len() == limit {
            next = if more_here {
                kept.last().map(|last| key_of(last, &pk_name, &sk_name))
            } else {
                out.last_evaluated_key
            };
            break;
        }
        match out.last_evaluated_key {
            None => break,
            Some(k) if read == MAX_READS => next = Some(k),
            Some(k) => start = Some(k),
        }
    }
    let now = common::time::now_secs();
    let items = kept
        .into_iter()
        .map(|i| db::from_item::<JobItem>(i).map(|j| j.job.view(now)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(JobPage {
        items,
        next_cursor: next_cursor(app, context, next.as_ref()),
    })
}

/// The exclusive start key of a query on an index that resumes after `item`.
fn key_of(item: &Item, pk_name: &str, sk_name: &str) -> Item {
    [db::PK, db::SK, pk_name, sk_name]
        .into_iter()
        .filter_map(|k| item.get(k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

fn open_expr(f: &Filters, category_served_by_key: bool) -> Expr {
    let mut e = Expr::default();
    e.not_past_deadline(common::time::now_secs());
    e.filters(f, category_served_by_key);
    e
}

fn filters_of(req: &Request) -> ApiResult<Filters> {
    Filters::parse(|k| query_param(req, k))
}

/// Open jobs of `filters`: by category key when exactly one category is asked for.
async fn open_jobs(app: &App, req: &Request, route: &str, f: Filters) -> ApiResult<JobPage> {
    let context = format!("{route}?{}", f.context());
    let (source, by_key) = match f.categories.as_slice() {
        [one] => (
            Source {
                index: "GSI2",
                key: crate::open_in_category(one),
            },
            true,
        ),
        _ => (
            Source {
                index: "GSI1",
                key: crate::OPEN.into(),
            },
            false,
        ),
    };
    read_page(app, req, &context, source, open_expr(&f, by_key)).await
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
    let source = Source {
        index: "GSI4",
        key: crate::FEATURED.into(),
    };
    ok(&read_page(app, &req, &context, source, open_expr(&f, false)).await?)
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
    let id = path_param(&req, "id")?;
    let id = ulid::Ulid::from_string(&id).map_err(|_| missing())?.to_string();
    let mut f = filters_of(&req)?;
    f.company_ids = vec![];
    let context = format!("GET /companies/{id}/jobs?{}", f.context());
    let mut e = open_expr(&f, false);
    e.status_is(JobStatus::Published);
    let source = Source {
        index: "GSI3",
        key: crate::of_company(&id),
    };
    let page = read_page(app, &req, &context, source, e).await?;
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
    let actor = require_role(app, &req, &[Role::Employer])?;
    let status = match query_param(&req, "status").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(serde_json::from_value::<JobStatus>(serde_json::Value::String(raw)).map_err(|_| {
            ApiError::bad_request("status must be draft, published, closed, expired or suspended").with_code("invalid_filter")
        })?),
    };
    let company = match query_param(&req, "company_id").filter(|s| !s.is_empty()) {
        Some(c) => {
            let c = ulid::Ulid::from_string(&c)
                .map_err(|_| ApiError::not_found("no such company"))?
                .to_string();
            if companies::membership(app, &actor.user_id, &c).await?.is_none() {
                return Err(ApiError::not_found("no such company"));
            }
            c
        }
        None => {
            let mut all = companies::memberships(app, &actor.user_id).await?;
            match all.len() {
                0 => {
                    return ok(&JobPage {
                        items: vec![],
                        next_cursor: None,
                    })
                }
                1 => all.remove(0),
                _ => return Err(ApiError::bad_request("you belong to several companies: pass company_id").with_code("company_required")),
            }
        }
    };
    let context = format!("GET /me/jobs?{}&{company}&{status:?}", actor.user_id);
    let mut e = Expr::default();
    let now = common::time::now_secs();
    match status {
        None => {}
        Some(JobStatus::Published) => {
            e.status_is(JobStatus::Published);
            e.not_past_deadline(now);
        }
        Some(JobStatus::Expired) => {
            let (st, d) = (e.name("status"), e.name("deadline_ts"));
            let (exp, publ, nowv) = (e.value(s("expired")), e.value(s("published")), e.value(n(now)));
            e.raw(format!("({st} = {exp} OR ({st} = {publ} AND {d} <= {nowv}))"));
        }
        Some(other) => e.status_is(other),
    }
    let source = Source {
        index: "GSI3",
        key: crate::of_company(&company),
    };
    ok(&read_page(app, &req, &context, source, e).await?)
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
        let mut e = Expr::default();
        e.filters(&f, false);
        assert!(
            e.clauses[0].starts_with("(attribute_not_exists(#salary_year_max) OR"),
            "{:?}",
            e.clauses
        );
        let f = parse(&[("salary_min", "50000"), ("currency", "EUR"), ("has_salary", "true")]).unwrap();
        let mut e = Expr::default();
        e.filters(&f, false);
        assert!(!e.clauses[0].contains("attribute_not_exists"));
    }
}
