//! Rebuilds every index from the table while search keeps answering: each entity is
//! written again with its version (unchanged documents stay, changed ones are replaced in
//! place), then documents the table no longer backs are found by paging the index and
//! removed. No `_reindex`, alias swap or delete-by-query: OpenSearch Serverless has none.
//! `make reindex` runs it against the local stack; deployed, invoke the SearchReindex
//! function (docs/operations in README).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use common::token::Role;
use common::{ApiResult, App};

use crate::engine;
use crate::indexer;
use crate::mappings::{IndexKind, ALL};
use crate::query::Query;

/// How many documents of each index the rebuild wrote and removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub jobs: usize,
    pub companies: usize,
    /// Seekers brought in step (listed ones written, others removed).
    pub seekers: usize,
    pub saved_searches: usize,
    pub removed: usize,
}

pub async fn run(app: &App) -> ApiResult<Rebuilt> {
    for kind in ALL {
        engine::ensure_index(app, kind).await?;
    }
    let mut r = Rebuilt::default();

    let open = jobs::open_jobs(app, jobs::OpenJobs::All).await?;
    let seen: HashSet<String> = open.iter().map(|j| j.id.clone()).collect();
    r.jobs = open.len();
    indexer::sync_jobs(app, open).await?;
    for id in engine::ids(app, IndexKind::Jobs, "id", Query::match_all()).await? {
        if !seen.contains(&id) {
            indexer::sync_job(app, &id).await?;
            r.removed += 1;
        }
    }

    let mut seen = HashSet::new();
    for company in companies::all(app).await? {
        indexer::sync_company(app, &company.id).await?;
        seen.insert(company.id);
        r.companies += 1;
    }
    for id in engine::ids(app, IndexKind::Companies, "id", Query::match_all()).await? {
        if !seen.contains(&id) {
            indexer::sync_company(app, &id).await?;
            r.removed += 1;
        }
    }

    let mut seen = HashSet::new();
    for role in [Role::Seeker, Role::Employer, Role::Admin] {
        for user in auth::account::ids_with_role(app, role).await? {
            if role == Role::Seeker {
                indexer::sync_candidate(app, &user).await?;
                r.seekers += 1;
            }
            for s in crate::saved::all_of(app, &user).await? {
                crate::alerts::sync_saved(app, &user, &s.id).await?;
                seen.insert(s.id);
                r.saved_searches += 1;
            }
            seen.insert(user);
        }
    }
    for id in engine::ids(app, IndexKind::Candidates, "user_id", Query::match_all()).await? {
        if !seen.contains(&id) {
            indexer::sync_candidate(app, &id).await?;
            r.removed += 1;
        }
    }
    for id in engine::ids(app, IndexKind::SavedSearches, "id", Query::match_all()).await? {
        if !seen.contains(&id) {
            engine::delete(app, IndexKind::SavedSearches, &id, indexer::GONE).await?;
            r.removed += 1;
        }
    }
    Ok(r)
}

/// The deployed equivalent of `make reindex` (invoke the function; no schedule).
pub fn handler(app: &'static App) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(async move {
        run(app)
            .await
            .map(|r| tracing::info!(?r, "search indexes rebuilt"))
            .map_err(|e| format!("{}: {:?}", e.message, e.source))
    })
}
