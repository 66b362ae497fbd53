//! Dashboards: a job's and a company's figures for their company's members (and admins),
//! the platform's for admins. Each range read is one Query (paged by DynamoDB).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use common::api_doc::ErrorBody;
use common::http::{id_param, ok, query_param, require_role, Request, Response};
use common::token::{Principal, Role};
use common::{ApiError, ApiResult, App};

use crate::model::{self, field, rate, AdminAnalytics, CompanyAnalytics, DailyFigures, Figures, JobAnalytics, PlatformPeriod, TopJob};
use crate::rollup::{self, platform_figures};
use crate::store::{self, Day};

/// Longest range, in days.
pub const MAX_DAYS: i64 = 366;
/// The default range: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// Entries per top list in a reply.
pub const TOP: usize = 20;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: both optional (default the last 30 days to today),
/// from before to, at most 366 days.
pub fn range(from: Option<String>, to: Option<String>, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
    let parse = |name: &str, v: Option<String>| -> ApiResult<Option<NaiveDate>> {
        v.map(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| ApiError::invalid_field(name, "a date, YYYY-MM-DD")))
            .transpose()
    };
    let to = parse("to", to)?.unwrap_or(today);
    let from = parse("from", from)?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(ApiError::invalid_field("from", "on or before to"));
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(ApiError::invalid_field("to", "at most 366 days after from"));
    }
    Ok((from, to))
}

fn range_of(req: &Request) -> ApiResult<(NaiveDate, NaiveDate)> {
    range(query_param(req, "from"), query_param(req, "to"), chrono::Utc::now().date_naive())
}

fn figures(day: &mut Day, company: bool) -> Figures {
    let views = day.get(field::VIEWS);
    let applications = day.get(field::APPLICATIONS);
    Figures {
        views,
        unique_viewers: day.sketch.estimate(),
        impressions: day.get(field::IMPRESSIONS),
        apply_clicks: day.get(field::APPLY_CLICKS),
        applications,
        search_clicks: day.get(field::SEARCH_CLICKS),
        view_to_apply_rate: rate(applications, views),
        company_views: company.then(|| day.get(field::COMPANY_VIEWS)),
    }
}

/// Every day from `from` to `to` (zeros included) and the totals.
fn series(mut days: BTreeMap<String, Day>, from: NaiveDate, to: NaiveDate, company: bool) -> (Figures, Vec<DailyFigures>, Day) {
    let mut total = Day::default();
    let mut daily = Vec::new();
    let mut d = from;
    while d <= to {
        let mut day = days.remove(&d.to_string()).unwrap_or_default();
        total.merge(&day);
        daily.push(DailyFigures {
            date: d.to_string(),
            figures: figures(&mut day, company),
        });
        d += Duration::days(1);
    }
    (figures(&mut total, company), daily, total)
}

/// Members of `company_id` and admins; 404 for anyone else (as for its applications).
async fn may_see(app: &App, me: &Principal, company_id: &str, missing: impl Fn() -> ApiError) -> ApiResult<()> {
    if me.role == Role::Admin || companies::membership(app, &me.user_id, company_id).await?.is_some() {
        Ok(())
    } else {
        Err(missing())
    }
}

/// GET /analytics/jobs/{id}: the job's figures per day and in total.
#[utoipa::path(get, path = "/analytics/jobs/{id}", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path), ("from" = Option<String>, Query, description = "YYYY-MM-DD, default 29 days before to"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, default today (UTC); at most 366 days")),
    responses((status = 200, body = JobAnalytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn job(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer, Role::Admin]).await?;
    let missing = || ApiError::not_found("no such job");
    let job_id = id_param(&req, "id", "job")?;
    let (from, to) = range_of(&req)?;
    let job = jobs::get(app, &job_id).await?.ok_or_else(missing)?;
    may_see(app, &me, &job.company_id, missing).await?;
    let days = store::days(app, &model::job_pk(&job_id), &from.to_string(), &to.to_string()).await?;
    let (totals, daily, _) = series(days, from, to, false);
    ok(&JobAnalytics {
        job_id,
        from: from.to_string(),
        to: to.to_string(),
        totals,
        daily,
    })
}

/// GET /analytics/companies/{id}: the company's figures and its top jobs.
#[utoipa::path(get, path = "/analytics/companies/{id}", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path), ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = CompanyAnalytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn company(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = require_role(app, &req, &[Role::Employer, Role::Admin]).await?;
    let missing = || ApiError::not_found("no such company");
    let company_id = id_param(&req, "id", "company")?;
    let (from, to) = range_of(&req)?;
    may_see(app, &me, &company_id, missing).await?;
    let days = store::days(app, &model::company_pk(&company_id), &from.to_string(), &to.to_string()).await?;
    let (totals, daily, total) = series(days, from, to, true);
    let top_jobs = top_jobs(app, &total).await?;
    ok(&CompanyAnalytics {
        company_id,
        from: from.to_string(),
        to: to.to_string(),
        totals,
        daily,
        top_jobs,
    })
}

/// The jobs with the most applications (then views) in a company's merged counters.
async fn top_jobs(app: &App, total: &Day) -> ApiResult<Vec<TopJob>> {
    let mut by_job: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (k, v) in &total.counters {
        let Some((job, counter)) = k.strip_prefix("j#").and_then(|r| r.split_once('#')) else {
            continue;
        };
        let e = by_job.entry(job.to_string()).or_default();
        match counter {
            field::VIEWS => e.0 += (*v).max(0) as u64,
            field::APPLICATIONS => e.1 += (*v).max(0) as u64,
            _ => {}
        }
    }
    let mut ranked: Vec<(String, (u64, u64))> = by_job.into_iter().collect();
    ranked.sort_by(|a, b| (b.1 .1, b.1 .0).cmp(&(a.1 .1, a.1 .0)).then(a.0.cmp(&b.0)));
    ranked.truncate(10);
    let titles: BTreeMap<String, String> = common::db::batch_get(app, ranked.iter().map(|(j, _)| jobs::key(j)).collect())
        .await?
        .into_iter()
        .filter_map(|i| {
            Some((
                common::db::get_s(&i, "id")?.to_string(),
                common::db::get_s(&i, "title")?.to_string(),
            ))
        })
        .collect();
    Ok(ranked
        .into_iter()
        .map(|(job_id, (views, applications))| TopJob {
            title: titles.get(&job_id).cloned().unwrap_or_default(),
            job_id,
            views,
            applications,
        })
        .collect())
}

/// GET /admin/analytics: platform figures per day or week, top lists and funnel.
#[utoipa::path(get, path = "/admin/analytics", tag = "analytics", security(("bearer" = [])),
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
        ("granularity" = Option<String>, Query, description = "day (default) or week (ISO weeks, cut to the range)")),
    responses((status = 200, body = AdminAnalytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn admin(app: &'static App, req: Request) -> ApiResult<Response> {
    require_role(app, &req, &[Role::Admin]).await?;
    let (from, to) = range_of(&req)?;
    let weekly = match query_param(&req, "granularity").as_deref() {
        None | Some("") | Some("day") => false,
        Some("week") => true,
        Some(_) => return Err(ApiError::invalid_field("granularity", "day or week")),
    };
    let (f, t) = (from.to_string(), to.to_string());
    let (days, (tops, _, rolled_up_through)) =
        futures::try_join!(store::days(app, model::PLATFORM_PK, &f, &t), rollup::merged_days(app, &f, &t))?;
    let mut days = days;
    let mut periods: Vec<(String, String, String, Day)> = Vec::new();
    let mut total = Day::default();
    let mut d = from;
    while d <= to {
        let day = days.remove(&d.to_string()).unwrap_or_default();
        total.merge(&day);
        let key = if weekly { rollup::week_of(d).0 } else { d.to_string() };
        match periods.last_mut() {
            Some((k, _, end, acc)) if *k == key => {
                acc.merge(&day);
                *end = d.to_string();
            }
            _ => periods.push((key, d.to_string(), d.to_string(), day)),
        }
        d += Duration::days(1);
    }
    ok(&AdminAnalytics {
        from: f,
        to: t,
        granularity: if weekly { "week" } else { "day" }.into(),
        totals: platform_figures(&mut total),
        periods: periods
            .into_iter()
            .map(|(period, from, to, mut day)| PlatformPeriod {
                period,
                from,
                to,
                figures: platform_figures(&mut day),
            })
            .collect(),
        tops: rollup::ranked(tops, TOP),
        rolled_up_through,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let (f, t) = range(None, None, today).unwrap();
        assert_eq!((f.to_string(), t.to_string()), ("2026-10-25".into(), "2026-11-23".into()));
        assert!(range(Some("2026-11-24".into()), Some("2026-11-23".into()), today).is_err());
        assert!(
            range(Some("2025-11-22".into()), Some("2026-11-23".into()), today).is_err(),
            "367 days"
        );
        assert!(
            range(Some("2025-11-23".into()), Some("2026-11-23".into()), today).is_ok(),
            "366 days"
        );
        assert!(range(Some("23.11.2026".into()), None, today).is_err());
    }
}
