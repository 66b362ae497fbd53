//! Digests of job alerts: the daily and weekly schedule sends, per saved search, one alert
//! with every job queued for it (see [`crate::alerts`], which queues them).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use common::db;
use common::events::{Actor, DomainEvent, MatchedJob, SavedSearchMatched};
use common::tx::{Cond, Tx, TxError};
use common::vocab::AlertFrequency;
use common::{ApiResult, App};

/// Sends the digests due at `now`: one alert per saved search with all its queued jobs
/// (at most 50 per message), the markers leaving the queue in the same transaction.
pub async fn send(app: &App, now: chrono::DateTime<chrono::Utc>) -> ApiResult<usize> {
    let until = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut sent = 0;
    for frequency in [AlertFrequency::Daily, AlertFrequency::Weekly] {
        let items = db::query_all(app, Some("GSI1"), format!("DIGEST#{}", frequency.as_str()), None).await?;
        let mut groups: BTreeMap<(String, String), Vec<db::Item>> = BTreeMap::new();
        for item in items {
            let Some(sk) = db::get_s(&item, "GSI1SK") else { continue };
            let mut parts = sk.splitn(3, '#');
            let (Some(due), Some(user), Some(saved_id)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if due > until.as_str() {
                continue;
            }
            groups.entry((user.to_string(), saved_id.to_string())).or_default().push(item);
        }
        for ((user_id, saved_id), items) in groups {
            for chunk in items.chunks(50) {
                let name = chunk
                    .first()
                    .and_then(|i| db::get_s(i, "saved_name"))
                    .unwrap_or_default()
                    .to_string();
                let jobs = chunk
                    .iter()
                    .filter_map(|i| i.get("job").cloned())
                    .filter_map(|v| serde_dynamo::from_attribute_value::<_, MatchedJob>(v).ok())
                    .collect();
                let mut tx = Tx::new(app).emit(
                    Actor::System,
                    DomainEvent::SavedSearchMatched(SavedSearchMatched {
                        saved_search_id: saved_id.clone(),
                        user_id: user_id.clone(),
                        name,
                        frequency,
                        jobs,
                    }),
                );
                for i in chunk {
                    tx = tx.update(
                        "marker",
                        db::key_of(i),
                        Cond::new("REMOVE GSI1PK, GSI1SK"),
                        Some(Cond::new("attribute_exists(GSI1PK)")),
                    );
                }
                match tx.commit().await {
                    Err(TxError::Condition { .. }) => {}
                    other => {
                        other?;
                        sent += 1;
                    }
                }
            }
        }
    }
    Ok(sent)
}

/// The digest schedule: sends what is due now.
pub fn handler(app: &'static App) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    Box::pin(async move {
        send(app, chrono::Utc::now())
            .await
            .map(|n| tracing::info!(digests = n, "job alert digests sent"))
            .map_err(|e| format!("{}: {:?}", e.message, e.source))
    })
}
