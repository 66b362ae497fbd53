//! One-click unsubscribe links in emails: a sealed token names what to stop (kind, user,
//! item); it needs no login and cannot be altered or forged (AES-GCM with a key derived
//! from the signing secret).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::app::App;
use crate::crypto;

const AAD: &[u8] = b"unsubscribe-v1";

/// What a token stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// The notification kind, e.g. `job_alert`.
    pub kind: String,
    pub user_id: String,
    /// The thing within the kind (a saved search's id).
    pub item_id: String,
}

fn key(app: &App) -> crate::ApiResult<[u8; 32]> {
    Ok(app.tokens()?.derive_key("unsubscribe-links"))
}

pub fn token(app: &App, stop: &Stop) -> crate::ApiResult<String> {
    let plain = format!("{}\n{}\n{}", stop.kind, stop.user_id, stop.item_id);
    Ok(URL_SAFE_NO_PAD.encode(crypto::seal(&key(app)?, AAD, plain.as_bytes())))
}

/// The stop a token names; `None` for anything altered, truncated or foreign.
pub fn open(app: &App, token: &str) -> crate::ApiResult<Option<Stop>> {
    let key = key(app)?;
    Ok(open_with(&key, token))
}

fn open_with(key: &[u8; 32], token: &str) -> Option<Stop> {
    if token.len() > 512 {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(token).ok()?;
    let plain = String::from_utf8(crypto::open(key, AAD, &sealed)?).ok()?;
    let mut parts = plain.splitn(3, '\n');
    Some(Stop {
        kind: parts.next()?.to_string(),
        user_id: parts.next()?.to_string(),
        item_id: parts.next()?.to_string(),
    })
}

/// The link an email carries: `<PUBLIC_API_URL>/unsubscribe?token=...`.
pub fn link(app: &App, stop: &Stop) -> crate::ApiResult<String> {
    Ok(format!(
        "{}/unsubscribe?token={}",
        app.settings.public_url.trim_end_matches('/'),
        token(app, stop)?
    ))
}
