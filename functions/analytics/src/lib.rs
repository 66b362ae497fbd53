//! Analytics (API.md, "Analytics", and POST /search/clicks): clients report views,
//! impressions and clicks; searches are recorded by /search/jobs; domain events arrive
//! through SNS. One consumer adds up each batch and writes each touched item once;
//! a daily rollup makes the top lists; employers read their jobs' and company's figures,
//! admins the platform's.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | job day (shard 0-3) | `AN#JOB#<job>` | `D#<date>#<shard>` |
//! | company day (shard) | `AN#CO#<company>` | `D#<date>#<shard>` |
//! | platform day (shard) | `AN#PLATFORM` | `D#<date>#<shard>` |
//! | query of a day | `AN#Q#<date>` | `<query hash>` |
//! | category of a day | `AN#CAT#<date>` | `<category slug>` |
//! | company of a day (top companies) | `AN#COD#<date>` | `<company>` |
//! | unit counted (dedupe, 15 days) | `AN#DONE#<unit>` | `DONE` |
//! | a viewer's last counted view of a job (views::WINDOW_SECS) | `AN#SEEN#<job>#<visitor>` | `SEEN` |
//! | rollups | `AN#ROLLUP` | `DAY#<date>`, `WEEK#<YYYY-Www>`, `MONTH#<YYYY-MM>` |

pub mod aggregate;
pub mod consumer;
pub mod ingest;
pub mod model;
pub mod reads;
pub mod rollup;
pub mod sketch;
pub mod store;
pub mod views;

common::functions! {
    openapi(tags((name = "analytics", description = "Client events, search clicks, job, company and platform figures")));
    http {
        "analytics-events" => ingest::events: NOTHING.analytics(),
        "analytics-search-click" => ingest::search_click: NOTHING.analytics(),
        "analytics-job" => reads::job: table(&[Get, BatchGet, Query]),
        "analytics-company" => reads::company: table(&[Get, BatchGet, Query]),
        "analytics-admin" => reads::admin: table(&[Get, BatchGet, Query]),
    }
    other {
        // Adds up each batch (of either queue) and writes each touched item once per batch.
        "analytics-consumer" => Batch(consumer::handler): table(&[Get, BatchGet, Put, Update, ConditionCheck])
            .signing_keys()
            .timeout(30)
            .on(Queues(&[queue("AnalyticsQueue", 100).window(5), queue("AnalyticsIngestQueue", 100).window(5)])),
        // Rolls up yesterday (UTC), its week and month: top lists, funnel, weekly and monthly
        // figures. Idempotent; `make rollup FROM=... TO=...` backfills.
        "analytics-rollup" => Scheduled(rollup::handler): table(&[Get, BatchGet, Query, Put]).timeout(300).on(Schedule(
            "cron(30 0 * * ? *)",
            "Rolls up the previous day's analytics, its week and its month",
        )),
    }
}
