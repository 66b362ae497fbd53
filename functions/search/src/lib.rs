//! Search (API.md, "Search" and GET /candidates) on OpenSearch: open jobs with full text,
//! filters, facets, geo radius and highlights; suggestions as you type; companies;
//! candidates for employers; saved searches with instant and digest alerts.
//!
//! The table stays the source of truth: the indexer consumer copies what search needs into
//! the engine ([`indexer`]), `make reindex` rebuilds every index from the table while
//! search keeps answering ([`reindex`]).

pub mod alerts;
pub mod digest;
pub mod docs;
pub mod engine;
pub mod handlers;
pub mod indexer;
pub mod mappings;
pub mod paging;
pub mod params;
pub mod query;
pub mod reindex;
pub mod saved;
pub mod suggest;
pub mod synonyms;

common::functions! {
    openapi(tags((name = "search", description = "Search on OpenSearch: jobs, suggestions, companies, candidates; saved searches with alerts")));
    http {
        "search-jobs" => handlers::jobs: NOTHING.analytics().search(),
        "search-suggest" => suggest::suggest: NOTHING.search(),
        "search-companies" => handlers::companies: NOTHING.search(),
        "search-candidates" => handlers::candidates: table(&[Get]).indexes().search(),
        "saved-searches-create" => saved::create: table(&[Get, Put, Update, Delete, ConditionCheck]).indexes(),
        "saved-searches-list" => saved::list: table(&[Query]).indexes(),
        "saved-searches-delete" => saved::delete: table(&[Get, Put, Update, Delete, ConditionCheck]).indexes(),
    }
    other {
        // A company or category rename rewrites its open jobs (bulk, 500 a request).
        "search-indexer" => Consumer(indexer::CONSUMER, indexer::handler): table(&[Get, BatchGet, Query, Put, Update, Delete])
            .indexes()
            .search()
            .timeout(30)
            .on(Queues(&[queue("SearchIndexerQueue", 10)])),
        // 5 jobs a batch at ~1 s each against 10 000 saved searches (docs/performance.md); the
        // queue's visibility timeout (30 s) stays above it.
        "search-alerts" => Consumer(alerts::CONSUMER, alerts::handler): table(&[Get, BatchGet, Query, Put, Update, Delete, ConditionCheck])
            .indexes()
            .search()
            .timeout(25)
            .on(Queues(&[queue("SearchAlertsQueue", 5)])),
        "search-digest" => Scheduled(digest::handler): table(&[Query, Put, Update, ConditionCheck]).indexes().on(Schedule(
            "cron(0 8 * * ? *)",
            "Sends the job alert digests that are due (daily ones every day, weekly ones on Mondays)",
        )),
        // Rebuilds every search index from the table while search keeps answering (the
        // deployed `make reindex`): aws lambda invoke --function-name <SearchReindexFunction> out.json
        "search-reindex" => Scheduled(reindex::handler): table(&[Get, BatchGet, Query])
            .indexes()
            .search()
            .timeout(900)
            .memory(512)
            .on(Manual),
    }
}
