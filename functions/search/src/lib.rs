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
        "search-indexer" => common::runtime::Kind::Consumer(indexer::CONSUMER, indexer::handler),
        "search-alerts" => common::runtime::Kind::Consumer(alerts::CONSUMER, alerts::handler),
        "search-digest" => common::runtime::Kind::Scheduled(digest::handler),
        "search-reindex" => common::runtime::Kind::Scheduled(reindex::handler),
    }
}
