//! Field-level encryption of personal data (AES-256-GCM): DynamoDB, its stream and backups
//! only ever see ciphertext. Each value is stored with the id of the key that sealed it, so
//! keys can rotate: new writes use the current key, older values still open with theirs.
//!
//! Configuration: `FIELD_KEYS = "k1:<base64 of 32 bytes>,k2:<...>"` and optionally
//! `FIELD_KEY_ID` (the current key; default the last one listed).

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A sealed value as stored: key id and base64 of nonce || ciphertext || tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub kid: String,
    pub ct: String,
}

#[derive(Clone)]
pub struct FieldKeys {
    current: String,
    keys: HashMap<String, [u8; 32]>,
}

impl std::fmt::Debug for FieldKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl FieldKeys {
    pub fn parse(spec: &str, current: Option<&str>) -> Result<Self, String> {
        let mut keys = HashMap::new();
        let mut last = None;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, b64) = part.split_once(':').ok_or("FIELD_KEYS entries are <id>:<base64 key>")?;
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| format!("FIELD_KEYS key {id} is not base64"))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| format!("FIELD_KEYS key {id} must be 32 bytes"))?;
            keys.insert(id.trim().to_string(), key);
            last = Some(id.trim().to_string());
        }
        let current = current.map(str::to_string).or(last).ok_or("FIELD_KEYS has no key")?;
        if !keys.contains_key(&current) {
            return Err(format!("FIELD_KEY_ID {current} is not in FIELD_KEYS"));
        }
        Ok(FieldKeys { current, keys })
    }

    /// Seals `plain`, bound to `context` (e.g. `user:<id>:phone`): a value copied to another
    /// record or field does not open there.
    pub fn seal(&self, context: &str, plain: &str) -> Sealed {
        let key = &self.keys[&self.current];
        Sealed {
            kid: self.current.clone(),
            ct: STANDARD.encode(crate::crypto::seal(key, context.as_bytes(), plain.as_bytes())),
        }
    }

    pub fn open(&self, context: &str, sealed: &Sealed) -> Result<String, ApiError> {
        let key = self
            .keys
            .get(&sealed.kid)
            .ok_or_else(|| ApiError::internal(format!("no field key {}", sealed.kid)))?;
        let bytes = STANDARD.decode(&sealed.ct).map_err(ApiError::internal)?;
        let plain =
            crate::crypto::open(key, context.as_bytes(), &bytes).ok_or_else(|| ApiError::internal("a sealed field does not open"))?;
        String::from_utf8(plain).map_err(ApiError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ids: &[(&str, u8)]) -> String {
        ids.iter()
            .map(|(id, b)| format!("{id}:{}", STANDARD.encode([*b; 32])))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn seal_open_and_rotate() {
        let old = FieldKeys::parse(&spec(&[("k1", 1)]), None).unwrap();
        let sealed = old.seal("user:1:phone", "+49 30 1234567");
        assert_eq!(sealed.kid, "k1");
        assert!(!sealed.ct.contains("1234567"));
        assert_eq!(old.open("user:1:phone", &sealed).unwrap(), "+49 30 1234567");
        assert!(old.open("user:2:phone", &sealed).is_err(), "bound to its record and field");
        // After rotation: new values use k2, old ones still open.
        let new = FieldKeys::parse(&spec(&[("k1", 1), ("k2", 2)]), None).unwrap();
        assert_eq!(new.seal("c", "x").kid, "k2");
        assert_eq!(new.open("user:1:phone", &sealed).unwrap(), "+49 30 1234567");
        let pinned = FieldKeys::parse(&spec(&[("k1", 1), ("k2", 2)]), Some("k1")).unwrap();
        assert_eq!(pinned.seal("c", "x").kid, "k1");
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(FieldKeys::parse("", None).is_err());
        assert!(FieldKeys::parse("k1:not-base64!", None).is_err());
        assert!(FieldKeys::parse(&format!("k1:{}", STANDARD.encode([0u8; 16])), None).is_err());
        assert!(FieldKeys::parse(&spec(&[("k1", 1)]), Some("k9")).is_err());
    }
}
