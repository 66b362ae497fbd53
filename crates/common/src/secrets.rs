//! Key rings kept in AWS Secrets Manager: the token signing keys and the field-encryption
//! keys never sit in a function's environment. A function gets the secret's ARN
//! (`SIGNING_KEYS_SECRET`, `FIELD_KEYS_SECRET`) only if it signs or seals, and IAM lets it
//! read only that secret; it fetches the ring with its first invocation and again after
//! [`REFRESH_SECS`] (so a rotation reaches warm containers).
//!
//! A ring is one JSON object, the shape CloudFormation's `GenerateSecretString` makes:
//! `{"current": "k1", "k1": "<secret>", "k2": "<secret>", "next": "k2", "next_from": 1764000000}`.
//! Key ids are `k<n>`, oldest first by `n`. `current` signs or seals; `next`, once
//! `next_from` (Unix seconds) has passed, takes over. A rotation adds `next` some minutes in
//! the future: every container has fetched the new key (and verifies or opens with it)
//! before any container signs or seals with it.

use serde_json::{Map, Value};

/// How long a container uses a fetched ring before fetching it again.
pub const REFRESH_SECS: i64 = 300;
/// How long after a rotation the new key starts signing: three refreshes, so every warm
/// container knows the key before anyone uses it.
pub const DEFAULT_ROTATION_DELAY_SECS: i64 = 3 * REFRESH_SECS;
/// Length of generated key material (alphanumeric: about 380 bits).
pub const KEY_LENGTH: i64 = 64;
const MIN_KEY_BYTES: usize = 32;

/// A ring of keys with ids, read from or written to its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Ring {
    /// `(id, secret)`, oldest first.
    keys: Vec<(String, String)>,
    current: String,
    next: Option<(String, i64)>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn key_number(id: &str) -> Option<u32> {
    id.strip_prefix('k')
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
}

impl Ring {
    /// A ring of one key `k1`.
    pub fn first(secret: String) -> Result<Ring, String> {
        Ring::parse(&serde_json::json!({"current": "k1", "k1": secret}).to_string())
    }

    pub fn parse(json: &str) -> Result<Ring, String> {
        let map: Map<String, Value> = serde_json::from_str(json).map_err(|_| "a key ring is a JSON object".to_string())?;
        let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_string);
        let mut keys = Vec::new();
        for (id, v) in &map {
            if matches!(id.as_str(), "current" | "next" | "next_from") {
                continue;
            }
            let n = key_number(id).ok_or(format!("key ring entry {id:?}: key ids are k<number>"))?;
            let secret = v.as_str().ok_or(format!("key {id} is not a string"))?;
            if secret.len() < MIN_KEY_BYTES {
                return Err(format!("key {id} must be at least {MIN_KEY_BYTES} bytes"));
            }
            keys.push((n, id.clone(), secret.to_string()));
        }
        keys.sort();
        let keys: Vec<(String, String)> = keys.into_iter().map(|(_, id, s)| (id, s)).collect();
        let known = |id: &str| keys.iter().any(|(k, _)| k == id);
        let current = text("current").ok_or("the key ring names no current key")?;
        if !known(&current) {
            return Err(format!("the current key {current} is not in the ring"));
        }
        let next = match text("next") {
            Some(id) if !known(&id) => return Err(format!("the next key {id} is not in the ring")),
            Some(id) => Some((id, map.get("next_from").and_then(Value::as_i64).ok_or("next_from is missing")?)),
            None => None,
        };
        Ok(Ring { keys, current, next })
    }

    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        map.insert("current".into(), self.current.clone().into());
        for (id, secret) in &self.keys {
            map.insert(id.clone(), secret.clone().into());
        }
        if let Some((id, from)) = &self.next {
            map.insert("next".into(), id.clone().into());
            map.insert("next_from".into(), (*from).into());
        }
        Value::Object(map).to_string()
    }

    /// `(id, secret)`, oldest first.
    pub fn keys(&self) -> &[(String, String)] {
        &self.keys
    }

    /// The key that signs or seals until `next` takes over.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// The key that signs or seals at `now`.
    pub fn active_id(&self, now: i64) -> &str {
        match &self.next {
            Some((id, from)) if now >= *from => id,
            _ => &self.current,
        }
    }

    /// The key taking over and when, if a rotation is under way.
    pub fn next(&self) -> Option<(&str, i64)> {
        self.next.as_ref().map(|(id, from)| (id.as_str(), *from))
    }

    /// Adds `secret` as a new key that takes over `delay_secs` after `now`; returns its id.
    /// A rotation whose key already took over is settled first; one still waiting is an
    /// error (rotate again once it has taken over).
    pub fn rotate(&mut self, secret: String, now: i64, delay_secs: i64) -> Result<String, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!("a key must be at least {MIN_KEY_BYTES} bytes"));
        }
        match self.next.take() {
            Some((id, from)) if now >= from => self.current = id,
            Some((id, from)) => {
                self.next = Some((id.clone(), from));
                return Err(format!("key {id} takes over at {from} (Unix seconds); rotate again after that"));
            }
            None => {}
        }
        let n = self.keys.iter().filter_map(|(id, _)| key_number(id)).max().unwrap_or(0) + 1;
        let id = format!("k{n}");
        self.keys.push((id.clone(), secret));
        self.next = Some((id.clone(), now + delay_secs.max(0)));
        Ok(id)
    }

    /// Ids and roles, never key material: `k1, k2 (current k1; k2 from <time>)`.
    pub fn describe(&self) -> String {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        let mut out = format!("{} (current {}", ids.join(", "), self.current);
        if let Some((id, from)) = &self.next {
            let when = chrono::DateTime::from_timestamp(*from, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            out.push_str(&format!("; {id} from {when}"));
        }
        out.push(')');
        out
    }
}

/// Reads a ring from its secret.
pub async fn fetch(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<Ring, String> {
    let out = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        format!(
            "reading secret {secret_id}: {}",
            aws_sdk_secretsmanager::error::DisplayErrorContext(e)
        )
    })?;
    Ring::parse(out.secret_string().ok_or(format!("secret {secret_id} holds no string"))?).map_err(|e| format!("secret {secret_id}: {e}"))
}

/// Fresh key material from Secrets Manager's generator (`KEY_LENGTH` letters and digits).
pub async fn generate(client: &aws_sdk_secretsmanager::Client) -> Result<String, String> {
    let out = client
        .get_random_password()
        .password_length(KEY_LENGTH)
        .exclude_punctuation(true)
        .include_space(false)
        .send()
        .await
        .map_err(|e| format!("generating a key: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)))?;
    out.random_password.ok_or_else(|| "the generator returned no key".to_string())
}

/// Adds a new key to the ring in `secret_id`, taking over after `delay_secs`. Returns the
/// ring before and after.
pub async fn rotate(client: &aws_sdk_secretsmanager::Client, secret_id: &str, delay_secs: i64) -> Result<(Ring, Ring), String> {
    let before = fetch(client, secret_id).await?;
    let mut after = before.clone();
    after.rotate(generate(client).await?, crate::time::now_secs(), delay_secs)?;
    client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(after.to_json())
        .send()
        .await
        .map_err(|e| {
            format!(
                "writing secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    Ok((before, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";
    const C: &str = "abcdefabcdefabcdefabcdefabcdefab";

    #[test]
    fn the_generated_shape_parses_and_round_trips() {
        let r = Ring::parse(&format!(r#"{{"current":"k1","k1":"{A}"}}"#)).unwrap();
        assert_eq!(r.active_id(0), "k1");
        assert_eq!(r.keys().len(), 1);
        assert_eq!(Ring::parse(&r.to_json()).unwrap(), r);
        assert!(!r.describe().contains(A), "descriptions never show key material");
    }

    #[test]
    fn rotation_adds_a_key_that_takes_over_later() {
        let mut r = Ring::first(A.into()).unwrap();
        assert_eq!(r.rotate(B.into(), 1000, 900).unwrap(), "k2");
        assert_eq!(r.active_id(1899), "k1");
        assert_eq!(r.active_id(1900), "k2");
        assert!(r.rotate(C.into(), 1500, 900).is_err(), "one rotation at a time");
        assert_eq!(r.rotate(C.into(), 2000, 900).unwrap(), "k3");
        assert_eq!(r.active_id(2000), "k2", "the settled rotation's key is current");
        let back = Ring::parse(&r.to_json()).unwrap();
        assert_eq!(back, r);
        let ids: Vec<&str> = back.keys().iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["k1", "k2", "k3"]);
    }

    #[test]
    fn keys_are_ordered_by_number_not_text() {
        let json = format!(r#"{{"current":"k10","k10":"{A}","k9":"{B}"}}"#);
        let ids: Vec<String> = Ring::parse(&json).unwrap().keys().iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids, ["k9", "k10"]);
    }

    #[test]
    fn bad_rings_are_refused() {
        for bad in [
            "[]".to_string(),
            format!(r#"{{"k1":"{A}"}}"#),
            format!(r#"{{"current":"k2","k1":"{A}"}}"#),
            r#"{"current":"k1","k1":"short"}"#.to_string(),
            format!(r#"{{"current":"k1","key":"{A}","k1":"{A}"}}"#),
            format!(r#"{{"current":"k1","k1":"{A}","next":"k2","next_from":1}}"#),
            format!(r#"{{"current":"k1","k1":"{A}","k2":"{B}","next":"k2"}}"#),
        ] {
            assert!(Ring::parse(&bad).is_err(), "{bad}");
        }
    }
}
