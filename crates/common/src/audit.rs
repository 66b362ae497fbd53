//! The audit log of admin (and other privileged) actions: who did what to which entity,
//! when, with the entity before and after. Written in the same transaction as the change.
//!
//! By entity: `PK = AUDIT#<entity_type>#<entity_id>`, `SK = <occurred_at>#<ulid>`.
//! By actor: `GSI1PK = AUDITBY#<actor_id>`, `GSI1SK = <occurred_at>#<ulid>`.

use serde::{Deserialize, Serialize};

use crate::db;
use crate::token::Principal;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub occurred_at: String,
    pub actor_id: String,
    pub actor_role: crate::token::Role,
    /// e.g. `category.created`, `job.suspended`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The entity's fields before the change (those the action concerns), by name; absent
    /// for a creation. Which fields depends on `entity_type` and `action`.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub before: Option<serde_json::Value>,
    /// The same fields after it (or what an admin asked, for `*.read_by_admin`); absent for
    /// an erasure.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new<B: Serialize, A: Serialize>(
        actor: &Principal,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Self {
        AuditEntry {
            id: ulid::Ulid::new().to_string(),
            occurred_at: crate::time::now_rfc3339(),
            actor_id: actor.user_id.clone(),
            actor_role: actor.role,
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: after.and_then(|a| serde_json::to_value(a).ok()),
        }
    }
}

/// Records `entry` on its own (reads of private data: nothing else is written).
pub async fn record(app: &crate::App, entry: &AuditEntry) -> crate::ApiResult<()> {
    app.dynamo()
        .put_item()
        .table_name(app.table())
        .set_item(Some(db::to_item(&audit_item(entry))?))
        .send()
        .await?;
    Ok(())
}

/// Records that an admin read `entity_type`/`entity_id` (private data), with what was asked
/// (`query`), as action `<entity_type>.read_by_admin`.
pub async fn admin_read(
    app: &crate::App,
    admin: &Principal,
    entity_type: &str,
    entity_id: &str,
    query: serde_json::Value,
) -> crate::ApiResult<()> {
    let entry = AuditEntry::new(
        admin,
        &format!("{entity_type}.read_by_admin"),
        entity_type,
        entity_id,
        None::<&()>,
        Some(&query),
    );
    record(app, &entry).await
}

/// The audit item of `entry`: under the entity it is about, and in GSI1 under its actor.
pub(crate) fn audit_item(entry: &AuditEntry) -> db::Keyed<&AuditEntry> {
    let sort = format!("{}#{}", entry.occurred_at, entry.id);
    db::Keyed::new(
        format!("AUDIT#{}#{}", entry.entity_type, entry.entity_id),
        sort.clone(),
        "audit",
        entry,
    )
    .in_index(1, format!("AUDITBY#{}", entry.actor_id), sort)
}
