//! Domain events: the versioned envelope and the transactional outbox.
//!
//! A change that others care about adds its event to the same transaction as the change
//! itself ([`crate::tx::Tx::emit`]). The table's stream carries the new outbox item to the relay, which
//! publishes it to SNS; the outbox item expires after a day.

use serde::{Deserialize, Serialize};

use crate::db;

pub mod domain;
pub use domain::*;

pub const OUTBOX_ENTITY: &str = "outbox";
const OUTBOX_RETENTION_SECS: i64 = 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    User { id: String },
    System,
}

/// `{id (ULID), type, version, occurred_at, actor, data}` (docs/events.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub occurred_at: String,
    pub actor: Actor,
    pub data: serde_json::Value,
}

impl Envelope {
    /// The envelope of `event`, caused by `actor`, now.
    pub fn of(actor: Actor, event: &DomainEvent) -> Self {
        Envelope {
            id: ulid::Ulid::new().to_string(),
            kind: event.kind().to_string(),
            version: event.version(),
            occurred_at: crate::time::now_rfc3339(),
            actor,
            data: event.data(),
        }
    }

    /// An envelope of any type and data, as data (tests of the wire and of consumers'
    /// handling of unknown types); producers use [`Envelope::of`].
    pub fn raw(kind: &str, version: u32, actor: Actor, data: serde_json::Value) -> Self {
        Envelope {
            id: ulid::Ulid::new().to_string(),
            kind: kind.to_string(),
            version,
            occurred_at: crate::time::now_rfc3339(),
            actor,
            data,
        }
    }

    /// The typed event it carries.
    pub fn decode(&self) -> Result<DomainEvent, Undecodable> {
        DomainEvent::decode(&self.kind, self.version, &self.data)
    }
}

impl Actor {
    /// The signed-in user who caused it.
    pub fn user(id: &str) -> Self {
        Actor::User { id: id.to_string() }
    }
}

/// What the outbox stores of an event: the envelope and when DynamoDB may drop it.
#[derive(Serialize)]
pub(crate) struct Outboxed<'a> {
    ttl: i64,
    #[serde(flatten)]
    event: &'a Envelope,
}

fn outbox_item(event: &Envelope, ttl: i64) -> db::Keyed<Outboxed<'_>> {
    db::Keyed::new(format!("EVENT#{}", event.id), "EVENT", OUTBOX_ENTITY, Outboxed { ttl, event })
}

/// The outbox item of `event` (new), to go into the same transaction as the change
/// ([`crate::tx::Tx::emit`]).
pub(crate) fn outbox_item_now(event: &Envelope) -> db::Keyed<Outboxed<'_>> {
    outbox_item(event, crate::time::now_secs() + OUTBOX_RETENTION_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_serialises_as_documented() {
        let e = Envelope::raw(
            "user.registered",
            1,
            Actor::User { id: "u1".into() },
            serde_json::json!({"user_id": "u1"}),
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "user.registered");
        assert_eq!(v["version"], 1);
        assert_eq!(v["actor"], serde_json::json!({"type": "user", "id": "u1"}));
        assert_eq!(v["id"].as_str().unwrap().len(), 26);
        let back: Envelope = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn outbox_item_round_trips_through_dynamo_format() {
        let e = Envelope::raw(
            "x.y",
            2,
            Actor::System,
            serde_json::json!({"n": 3, "s": "t", "l": [1, "a"], "o": {"k": true}}),
        );
        let item = db::to_item(&outbox_item(&e, 1)).unwrap();
        let back: Envelope = db::from_item(item).unwrap();
        assert_eq!(back, e);
    }
}
