//! Signed tokens: issue and verify access and refresh JWTs (HS256, key from configuration).
//!
//! One verifier is shared by every function: it checks signature, expiry, issuer, audience
//! and the token's use, so a refresh token is never accepted as an access token.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 3600;
pub const REFRESH_REMEMBER_TTL_SECS: i64 = 30 * 24 * 3600;
const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenUse {
    Access,
    Refresh,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Seeker,
    Employer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Seeker => "seeker",
            Role::Employer => "employer",
            Role::Admin => "admin",
        }
    }
}

/// Claims of both token kinds. `role` is set on access tokens only.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// User id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique token id (for refresh tokens: the rotation step).
    pub jti: String,
    pub token_use: TokenUse,
    /// Session (refresh-token family) id.
    pub sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// The authenticated caller, as proven by an access token.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub session_id: String,
}

/// One signing key of the ring.
#[derive(Clone)]
struct SigningKey {
    id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// The token signing keys: a ring of keys with ids. Tokens are signed with the current key
/// and carry its id (`kid`); any key still in the ring verifies its tokens, so a new key can
/// become current without signing anyone out (rotation), and an old one is retired by
/// leaving it out once its tokens have expired.
#[derive(Clone)]
pub struct TokenKeys {
    keys: Vec<SigningKey>,
    current: usize,
    /// A key taking over at a time (Unix seconds): see [`crate::secrets`].
    next: Option<(usize, i64)>,
    issuer: String,
    audience: String,
    /// The ring's first (oldest) secret: other MACs (cursors, links, codes) derive from it,
    /// so they survive rotations and a token key is never reused as-is for another purpose.
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// One key (id `k1`).
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, String> {
        Self::ring(&[("k1", secret)], None, issuer, audience)
    }

    /// A ring of `(id, secret)`, oldest first; `current` signs (default: the newest).
    pub fn ring(keys: &[(&str, &[u8])], current: Option<&str>, issuer: &str, audience: &str) -> Result<Self, String> {
        let mut ring = Vec::new();
        for (id, secret) in keys {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!("signing key {id} must be at least {MIN_SECRET_BYTES} bytes"));
            }
            if id.is_empty() || ring.iter().any(|k: &SigningKey| k.id == *id) {
                return Err(format!("signing key ids must be unique and not empty ({id:?})"));
            }
            ring.push(SigningKey {
                id: id.to_string(),
                encoding: EncodingKey::from_secret(secret),
                decoding: DecodingKey::from_secret(secret),
            });
        }
        let first = keys.first().ok_or("no signing key")?;
        let current = match current {
            Some(c) => ring
                .iter()
                .position(|k| k.id == c)
                .ok_or(format!("the current signing key {c} is not in the ring"))?,
            None => ring.len() - 1,
        };
        Ok(TokenKeys {
            keys: ring,
            current,
            next: None,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            secret: first.1.to_vec(),
        })
    }

    /// The ring kept in Secrets Manager: its current key signs until its next one takes over.
    pub fn from_ring(ring: &crate::secrets::Ring, issuer: &str, audience: &str) -> Result<Self, String> {
        let pairs: Vec<(&str, &[u8])> = ring.keys().iter().map(|(id, s)| (id.as_str(), s.as_bytes())).collect();
        // The current key signs; a takeover by `next` is resolved per signature.
        let mut keys = Self::ring(&pairs, Some(ring.current()), issuer, audience)?;
        keys.next = ring
            .next()
            .map(|(id, from)| (keys.keys.iter().position(|k| k.id == id).expect("a ring's next key is in it"), from));
        Ok(keys)
    }

    /// The key that signs at `now`.
    fn signing(&self, now: i64) -> &SigningKey {
        match self.next {
            Some((i, from)) if now >= from => &self.keys[i],
            _ => &self.keys[self.current],
        }
    }

    /// The id of the key that signs new tokens now.
    pub fn current_id(&self) -> &str {
        &self.signing(crate::time::now_secs()).id
    }

    /// A key for another purpose, derived from the signing secret: HMAC(secret, label).
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        crate::crypto::hmac_sha256(&self.secret, label.as_bytes())
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let key = self.signing(claims.iat);
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.id.clone());
        encode(&header, claims, &key.encoding).map_err(ApiError::internal)
    }

    /// Issues an access token for a session.
    pub fn access_token(&self, user_id: &str, role: Role, session_id: &str, now: i64) -> Result<String, ApiError> {
        self.sign(&Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            jti: ulid::Ulid::new().to_string(),
            token_use: TokenUse::Access,
            sid: session_id.to_string(),
            role: Some(role),
        })
    }

    /// Issues the refresh token of one rotation step `jti` of session `session_id`.
    pub fn refresh_token(&self, user_id: &str, session_id: &str, jti: &str, now: i64, ttl_secs: i64) -> Result<String, ApiError> {
        self.sign(&Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            iat: now,
            exp: now + ttl_secs,
            jti: jti.to_string(),
            token_use: TokenUse::Refresh,
            sid: session_id.to_string(),
            role: None,
        })
    }

    /// Verifies signature, expiry, issuer, audience and use.
    pub fn verify(&self, token: &str, expected: TokenUse) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 5;
        let invalid = || ApiError::unauthorized("the token is not valid").with_code("invalid_token");
        // The key the token names (tokens from before key ids: the oldest key).
        let kid = jsonwebtoken::decode_header(token).map_err(|_| invalid())?.kid;
        let key = match kid.as_deref() {
            Some(id) => self.keys.iter().find(|k| k.id == id).ok_or_else(invalid)?,
            None => &self.keys[0],
        };
        let data = decode::<Claims>(token, &key.decoding, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::unauthorized("the token has expired").with_code("token_expired"),
                _ => ApiError::unauthorized("the token is not valid").with_code("invalid_token"),
            }
        })?;
        if data.claims.token_use != expected {
            return Err(ApiError::unauthorized("the token is not valid").with_code("invalid_token"));
        }
        Ok(data.claims)
    }

    /// Verifies an access token and returns the caller.
    pub fn principal(&self, access_token: &str) -> Result<Principal, ApiError> {
        let c = self.verify(access_token, TokenUse::Access)?;
        match c.role {
            Some(role) => Ok(Principal {
                user_id: c.sub,
                role,
                session_id: c.sid,
            }),
            None => Err(ApiError::unauthorized("the token is not valid").with_code("invalid_token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(secret.as_bytes(), "iss", "aud").unwrap()
    }
    const S1: &str = "0123456789abcdef0123456789abcdef";
    const S2: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(b"short", "i", "a").is_err());
    }

    #[test]
    fn a_new_key_takes_over_while_the_old_one_still_verifies() {
        use crate::secrets::Ring;
        let now = crate::time::now_secs();
        let ring = Ring::first(S1.into()).unwrap();
        let old = TokenKeys::from_ring(&ring, "iss", "aud").unwrap();
        let before = old.access_token("u", Role::Seeker, "s", now).unwrap();
        let mut rotated_ring = ring.clone();
        assert_eq!(rotated_ring.rotate(S2.into(), now, 900).unwrap(), "k2");
        let rotated = TokenKeys::from_ring(&rotated_ring, "iss", "aud").unwrap();
        // Until the takeover the old key still signs; the new one already verifies.
        assert_eq!(rotated.current_id(), "k1");
        let later = rotated.access_token("u", Role::Seeker, "s", now + 900).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&later).unwrap().kid.as_deref(), Some("k2"));
        assert_eq!(rotated.principal(&before).unwrap().user_id, "u", "nobody is signed out");
        assert!(old.principal(&later).is_err(), "a ring without k2 does not know it");
        // Derived keys (cursors, links, codes) stay with the oldest key.
        assert_eq!(old.derive_key("x"), rotated.derive_key("x"));
        // Retired: a ring without k1 refuses k1's tokens.
        let retired = TokenKeys::ring(&[("k2", S2.as_bytes())], None, "iss", "aud").unwrap();
        assert!(retired.principal(&before).is_err());
        assert!(TokenKeys::ring(&[("k1", S1.as_bytes())], Some("k9"), "iss", "aud").is_err());
        assert!(TokenKeys::ring(&[("k1", S1.as_bytes()), ("k1", S2.as_bytes())], None, "iss", "aud").is_err());
    }

    #[test]
    fn access_token_round_trip() {
        let k = keys(S1);
        let now = chrono::Utc::now().timestamp();
        let t = k.access_token("u1", Role::Employer, "s1", now).unwrap();
        let p = k.principal(&t).unwrap();
        assert_eq!(
            p,
            Principal {
                user_id: "u1".into(),
                role: Role::Employer,
                session_id: "s1".into()
            }
        );
    }

    #[test]
    fn refresh_token_is_not_an_access_token_and_vice_versa() {
        let k = keys(S1);
        let now = chrono::Utc::now().timestamp();
        let r = k.refresh_token("u1", "s1", "j1", now, REFRESH_TTL_SECS).unwrap();
        assert_eq!(k.principal(&r).unwrap_err().code, "invalid_token");
        let a = k.access_token("u1", Role::Seeker, "s1", now).unwrap();
        assert!(k.verify(&a, TokenUse::Refresh).is_err());
        assert!(k.verify(&r, TokenUse::Refresh).is_ok());
    }

    #[test]
    fn expired_foreign_and_garbled_tokens_fail() {
        let k = keys(S1);
        let old = chrono::Utc::now().timestamp() - ACCESS_TTL_SECS - 60;
        let t = k.access_token("u1", Role::Seeker, "s1", old).unwrap();
        assert_eq!(k.principal(&t).unwrap_err().code, "token_expired");
        let other = keys(S2)
            .access_token("u1", Role::Seeker, "s1", chrono::Utc::now().timestamp())
            .unwrap();
        assert_eq!(k.principal(&other).unwrap_err().code, "invalid_token");
        assert!(k.principal("not.a.token").is_err());
        assert!(k.principal("").is_err());
    }

    #[test]
    fn wrong_issuer_or_audience_fails() {
        let now = chrono::Utc::now().timestamp();
        let t = TokenKeys::new(S1.as_bytes(), "other", "aud")
            .unwrap()
            .access_token("u", Role::Seeker, "s", now)
            .unwrap();
        assert!(keys(S1).principal(&t).is_err());
        let t = TokenKeys::new(S1.as_bytes(), "iss", "other")
            .unwrap()
            .access_token("u", Role::Seeker, "s", now)
            .unwrap();
        assert!(keys(S1).principal(&t).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_strings_never_verify_or_panic(s in ".{0,400}") {
            let k = keys(S1);
            proptest::prop_assert!(k.principal(&s).is_err());
            proptest::prop_assert!(k.verify(&s, TokenUse::Refresh).is_err());
        }

        #[test]
        fn any_altered_character_breaks_the_token(pos in 0usize..2000, ch in proptest::char::range('0', 'z')) {
            let k = keys(S1);
            let t = k.access_token("u1", Role::Seeker, "s1", chrono::Utc::now().timestamp()).unwrap();
            let mut chars: Vec<char> = t.chars().collect();
            let i = pos % chars.len();
            proptest::prop_assume!(chars[i] != ch && chars[i] != '.');
            chars[i] = ch;
            let altered: String = chars.into_iter().collect();
            // Base64url's last character can carry unused bits; a change there may decode the same.
            if i + 1 != t.len() && t.as_bytes().get(i + 1) != Some(&b'.') {
                proptest::prop_assert!(k.principal(&altered).is_err());
            }
        }
    }
}
