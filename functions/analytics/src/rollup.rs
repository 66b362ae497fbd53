//! The daily rollup (EventBridge, 00:30 UTC): the previous day's platform figures, top
//! lists (searches with click-through, zero-result searches, categories, companies by
//! applications) and funnel into `AN#ROLLUP` / `DAY#<date>`, then the week and month that
//! day belongs to (`WEEK#<YYYY-Www>`, `MONTH#<YYYY-MM>`) merged from their day rollups
//! (sketches merge, so weekly active users need no raw events). Every rollup is computed
//! from the counters and overwritten: re-running a day gives the same figures.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Datelike, Duration, NaiveDate};
use common::db::{self, s, Item};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};

use crate::model::{self, field, rate, Funnel, PlatformFigures, Signups, TopCategory, TopCompany, TopSearch, TopZeroResult, Tops};
use crate::sketch::Sketch;
use crate::store::{self, Day};

/// Entries kept per top list in a rollup.
pub const KEPT: usize = 50;

/// A day's, week's or month's rollup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub period: String,
    pub from: String,
    pub to: String,
    pub figures: PlatformFigures,
    pub tops: Tops,
}

pub fn platform_figures(day: &mut Day) -> PlatformFigures {
    PlatformFigures {
        signups: Signups {
            seeker: day.get(field::SIGNUPS_SEEKER),
            employer: day.get(field::SIGNUPS_EMPLOYER),
        },
        active_users: day.sketch.estimate(),
        jobs_posted: day.get(field::JOBS_POSTED),
        applications: day.get(field::APPLICATIONS),
        searches: day.get(field::SEARCHES),
        zero_result_searches: day.get(field::ZERO_RESULTS),
    }
}

fn count(item: &Item, name: &str) -> u64 {
    db::get_n(item, name).unwrap_or(0).max(0) as u64
}

/// Rolls up `date` from its counters and stores it.
pub async fn day(app: &App, date: NaiveDate) -> ApiResult<Rollup> {
    let d = date.to_string();
    let mut platform = store::days(app, model::PLATFORM_PK, &d, &d).await?.remove(&d).unwrap_or_default();
    let (queries, categories, companies) = futures::try_join!(
        db::query_all(app, None, model::queries_pk(&d), None),
        db::query_all(app, None, model::categories_pk(&d), None),
        db::query_all(app, None, model::companies_pk(&d), None),
    )?;
    let top_searches = queries
        .iter()
        .filter(|q| count(q, field::SEARCHES) > 0)
        .map(|q| TopSearch {
            query: db::get_s(q, field::QUERY).unwrap_or_default().to_string(),
            searches: count(q, field::SEARCHES),
            clicks: count(q, field::CLICKS),
            click_through_rate: rate(count(q, field::CLICKS), count(q, field::SEARCHES)),
        })
        .collect();
    let top_zero_result_searches = queries
        .iter()
        .filter(|q| count(q, field::ZERO_RESULTS) > 0)
        .map(|q| TopZeroResult {
            query: db::get_s(q, field::QUERY).unwrap_or_default().to_string(),
            searches: count(q, field::ZERO_RESULTS),
        })
        .collect();
    let top_categories = categories
        .iter()
        .map(|c| TopCategory {
            category: db::get_s(c, db::SK).unwrap_or_default().to_string(),
            applications: count(c, field::APPLICATIONS),
            views: count(c, field::VIEWS),
        })
        .collect();
    let names = company_names(app, companies.iter().filter_map(|c| db::get_s(c, db::SK)).collect()).await?;
    let top_companies = companies
        .iter()
        .filter_map(|c| {
            let id = db::get_s(c, db::SK)?.to_string();
            Some(TopCompany {
                name: names.get(&id).cloned().unwrap_or_default(),
                company_id: id,
                applications: count(c, field::APPLICATIONS),
            })
        })
        .collect();
    let funnel = Funnel {
        impressions: platform.get(field::IMPRESSIONS),
        views: platform.get(field::VIEWS),
        apply_clicks: platform.get(field::APPLY_CLICKS),
        applications: platform.get(field::APPLICATIONS),
    };
    let rollup = Rollup {
        period: d.clone(),
        from: d.clone(),
        to: d.clone(),
        figures: platform_figures(&mut platform),
        tops: ranked(
            Tops {
                top_searches,
                top_zero_result_searches,
                top_categories,
                top_companies,
                funnel,
            },
            KEPT,
        ),
    };
    store_rollup(app, &format!("DAY#{d}"), &rollup, &mut platform.sketch).await?;
    Ok(rollup)
}

async fn company_names(app: &App, ids: Vec<&str>) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(100) {
        for item in db::batch_get(app, chunk.iter().map(|c| companies::key(c)).collect()).await? {
            if let (Some(id), Some(name)) = (db::get_s(&item, "id"), db::get_s(&item, "name")) {
                out.insert(id.to_string(), name.to_string());
            }
        }
    }
    Ok(out)
}

async fn store_rollup(app: &App, sk: &str, rollup: &Rollup, sketch: &mut Sketch) -> ApiResult<()> {
    app.dynamo()
        .put_item()
        .table_name(app.table())
        .item(db::PK, s(model::ROLLUP_PK))
        .item(db::SK, s(sk))
        .item("data", s(serde_json::to_string(rollup).map_err(ApiError::internal)?))
        .item(field::SKETCH, AttributeValue::B(sketch.to_bytes().into()))
        .send()
        .await?;
    Ok(())
}

/// The day rollups from `from` to `to` (inclusive), merged: one Query. Also the last day
/// that had a rollup.
pub async fn merged_days(app: &App, from: &str, to: &str) -> ApiResult<(Tops, PlatformFigures, Option<String>)> {
    let items = db::query_between(app, None, model::ROLLUP_PK, &format!("DAY#{from}"), &format!("DAY#{to}")).await?;
    let last = items
        .iter()
        .filter_map(|i| db::get_s(i, db::SK)?.strip_prefix("DAY#"))
        .max()
        .map(str::to_string);
    let (tops, mut figures, mut sketch) = merge(&items);
    figures.active_users = sketch.estimate();
    Ok((tops, figures, last))
}

fn merge(items: &[Item]) -> (Tops, PlatformFigures, Sketch) {
    let mut tops = Tops::default();
    let mut f = PlatformFigures::default();
    let mut sketch = Sketch::default();
    let mut searches: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut zero: BTreeMap<String, u64> = BTreeMap::new();
    let mut categories: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut companies: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for item in items {
        let Some(r) = db::get_s(item, "data").and_then(|d| serde_json::from_str::<Rollup>(d).ok()) else {
            continue;
        };
        if let Some(s) = item
            .get(field::SKETCH)
            .and_then(|v| v.as_b().ok())
            .and_then(|b| Sketch::from_bytes(b.as_ref()))
        {
            sketch.merge(&s);
        }
        f.signups.seeker += r.figures.signups.seeker;
        f.signups.employer += r.figures.signups.employer;
        f.jobs_posted += r.figures.jobs_posted;
        f.applications += r.figures.applications;
        f.searches += r.figures.searches;
        f.zero_result_searches += r.figures.zero_result_searches;
        for t in r.tops.top_searches {
            let e = searches.entry(t.query).or_default();
            e.0 += t.searches;
            e.1 += t.clicks;
        }
        for t in r.tops.top_zero_result_searches {
            *zero.entry(t.query).or_default() += t.searches;
        }
        for t in r.tops.top_categories {
            let e = categories.entry(t.category).or_default();
            e.0 += t.applications;
            e.1 += t.views;
        }
        for t in r.tops.top_companies {
            let e = companies.entry(t.company_id).or_default();
            e.0 = t.name;
            e.1 += t.applications;
        }
        tops.funnel.impressions += r.tops.funnel.impressions;
        tops.funnel.views += r.tops.funnel.views;
        tops.funnel.apply_clicks += r.tops.funnel.apply_clicks;
        tops.funnel.applications += r.tops.funnel.applications;
    }
    tops.top_searches = searches
        .into_iter()
        .map(|(query, (n, c))| TopSearch {
            query,
            searches: n,
            clicks: c,
            click_through_rate: rate(c, n),
        })
        .collect();
    tops.top_zero_result_searches = zero
        .into_iter()
        .map(|(query, searches)| TopZeroResult { query, searches })
        .collect();
    tops.top_categories = categories
        .into_iter()
        .map(|(category, (applications, views))| TopCategory {
            category,
            applications,
            views,
        })
        .collect();
    tops.top_companies = companies
        .into_iter()
        .map(|(company_id, (name, applications))| TopCompany {
            company_id,
            name,
            applications,
        })
        .collect();
    (ranked(tops, KEPT), f, sketch)
}

/// Each list sorted (most first, then by name) and cut to `n`.
pub fn ranked(mut t: Tops, n: usize) -> Tops {
    t.top_searches.sort_by(|a, b| {
        b.searches
            .cmp(&a.searches)
            .then(b.clicks.cmp(&a.clicks))
            .then(a.query.cmp(&b.query))
    });
    t.top_searches.truncate(n);
    t.top_zero_result_searches
        .sort_by(|a, b| b.searches.cmp(&a.searches).then(a.query.cmp(&b.query)));
    t.top_zero_result_searches.truncate(n);
    t.top_categories.sort_by(|a, b| {
        b.applications
            .cmp(&a.applications)
            .then(b.views.cmp(&a.views))
            .then(a.category.cmp(&b.category))
    });
    t.top_categories.truncate(n);
    t.top_companies
        .sort_by(|a, b| b.applications.cmp(&a.applications).then(a.company_id.cmp(&b.company_id)));
    t.top_companies.truncate(n);
    t
}

/// The ISO week of `d`: its key and its Monday and Sunday.
pub fn week_of(d: NaiveDate) -> (String, NaiveDate, NaiveDate) {
    let w = d.iso_week();
    let monday = d - Duration::days(d.weekday().num_days_from_monday() as i64);
    (format!("{}-W{:02}", w.year(), w.week()), monday, monday + Duration::days(6))
}

fn month_of(d: NaiveDate) -> (String, NaiveDate, NaiveDate) {
    let first = d.with_day(1).expect("day 1 exists");
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    }
    .expect("a month follows");
    (format!("{}-{:02}", d.year(), d.month()), first, next - Duration::days(1))
}

/// Merges the day rollups of a week or month into its own rollup.
async fn period(app: &App, prefix: &str, (key, from, to): (String, NaiveDate, NaiveDate)) -> ApiResult<()> {
    let items = db::query_between(app, None, model::ROLLUP_PK, &format!("DAY#{from}"), &format!("DAY#{to}")).await?;
    let (tops, mut figures, mut sketch) = merge(&items);
    figures.active_users = sketch.estimate();
    let rollup = Rollup {
        period: key.clone(),
        from: from.to_string(),
        to: to.to_string(),
        figures,
        tops,
    };
    store_rollup(app, &format!("{prefix}#{key}"), &rollup, &mut sketch).await
}

/// Rolls up every day from `from` to `to`, then each week and month they touch.
pub async fn range(app: &App, from: NaiveDate, to: NaiveDate) -> ApiResult<Vec<Rollup>> {
    let mut out = Vec::new();
    let (mut weeks, mut months) = (BTreeSet::new(), BTreeSet::new());
    let mut d = from;
    while d <= to {
        out.push(day(app, d).await?);
        weeks.insert(week_of(d));
        months.insert(month_of(d));
        d += Duration::days(1);
    }
    for w in weeks {
        period(app, "WEEK", w).await?;
    }
    for m in months {
        period(app, "MONTH", m).await?;
    }
    Ok(out)
}

/// The schedule: yesterday (UTC), its week and its month.
pub fn handler(app: &'static App) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>> {
    Box::pin(async move {
        let yesterday = chrono::Utc::now().date_naive() - Duration::days(1);
        let r = range(app, yesterday, yesterday).await.map_err(|e| e.to_string())?;
        tracing::info!(day = %yesterday, applications = r[0].figures.applications, "analytics rolled up");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_and_months() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(); // a Monday
        assert_eq!(week_of(d), ("2026-W48".into(), d, NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()));
        let sunday = NaiveDate::from_ymd_opt(2027, 1, 3).unwrap();
        assert_eq!(week_of(sunday).0, "2026-W53");
        let (k, first, last) = month_of(NaiveDate::from_ymd_opt(2026, 12, 9).unwrap());
        assert_eq!((k.as_str(), first.day(), last.day()), ("2026-12", 1, 31));
    }
}
