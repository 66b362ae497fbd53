//! Field-level encryption of personal data (AES-256-GCM): DynamoDB, its stream and backups
//! only ever see ciphertext. Each value is stored with the id of the key that sealed it, so
//! keys can rotate: new writes use the current key, older values still open with theirs.
//!
//! The keys are a ring in Secrets Manager (`FIELD_KEYS_SECRET`, see [`crate::secrets`]);
//! each AES key is derived from its ring entry with HMAC-SHA256.

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
    /// A key taking over at a time (Unix seconds).
    next: Option<(String, i64)>,
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
    pub fn from_ring(ring: &crate::secrets::Ring) -> Self {
        FieldKeys {
            current: ring.current().to_string(),
            next: ring.next().map(|(id, from)| (id.to_string(), from)),
            keys: ring
                .keys()
                .iter()
                .map(|(id, secret)| (id.clone(), crate::crypto::hmac_sha256(secret.as_bytes(), b"field-encryption-key")))
                .collect(),
        }
    }

    fn sealing_id(&self, now: i64) -> &str {
        match &self.next {
            Some((id, from)) if now >= *from => id,
            _ => &self.current,
        }
    }

    /// Seals `plain`, bound to `context` (e.g. `user:<id>:phone`): a value copied to another
    /// record or field does not open there.
    pub fn seal(&self, context: &str, plain: &str) -> Sealed {
        let kid = self.sealing_id(crate::time::now_secs());
        let key = &self.keys[kid];
        Sealed {
            kid: kid.to_string(),
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
    use crate::secrets::Ring;

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn seal_open_and_rotate() {
        let ring = Ring::first(A.into()).unwrap();
        let old = FieldKeys::from_ring(&ring);
        let sealed = old.seal("user:1:phone", "+49 30 1234567");
        assert_eq!(sealed.kid, "k1");
        assert!(!sealed.ct.contains("1234567"));
        assert_eq!(old.open("user:1:phone", &sealed).unwrap(), "+49 30 1234567");
        assert!(old.open("user:2:phone", &sealed).is_err(), "bound to its record and field");
        // A rotation taking over later: k1 still seals, k2 already opens.
        let mut later = ring.clone();
        later.rotate(B.into(), crate::time::now_secs(), 900).unwrap();
        let waiting = FieldKeys::from_ring(&later);
        assert_eq!(waiting.seal("c", "x").kid, "k1");
        // Once it has taken over: new values use k2, old ones still open.
        let mut now = ring.clone();
        now.rotate(B.into(), crate::time::now_secs(), 0).unwrap();
        let new = FieldKeys::from_ring(&now);
        let fresh = new.seal("c", "x");
        assert_eq!(fresh.kid, "k2");
        assert_eq!(new.open("user:1:phone", &sealed).unwrap(), "+49 30 1234567");
        assert_eq!(waiting.open("c", &fresh).unwrap(), "x", "containers that know k2 open its values");
        assert!(old.open("c", &fresh).is_err());
    }
}
