//! Analytics ingestion: what the request path hands the analytics consumer through its
//! ingest queue (`ANALYTICS_QUEUE_URL`): one SendMessage per request, never a table write.
//! Nothing personal crosses it: visitors and users are keyed hashes (the key derived from
//! the signing keys), never an address, a user agent or a raw session id.

use serde::{Deserialize, Serialize};

use crate::{ApiError, ApiResult, App};

/// One message on the ingest queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ingest {
    /// The client events of one request (`POST /analytics/events`, `POST /search/clicks`).
    Client {
        /// Dedupe id (the consumer counts a message once).
        id: String,
        visitor: String,
        /// The signed-in caller's hash, for active users.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        events: Vec<ClientEvent>,
    },
    /// One search of `/search/jobs`.
    Search {
        id: String,
        /// Unix seconds.
        at: i64,
        /// Hash of the normalised query (what a click's `search_id` names).
        query_hash: String,
        /// The normalised query (`""` for a search by filters only).
        query: String,
        /// The filters used (names, not values).
        filters: Vec<String>,
        results: u64,
        visitor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
    },
}

impl Ingest {
    pub fn id(&self) -> &str {
        match self {
            Ingest::Client { id, .. } | Ingest::Search { id, .. } => id,
        }
    }
}

/// What a client reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientEventType {
    JobView,
    JobImpression,
    ApplyClick,
    CompanyView,
    SearchClick,
}

/// One client event, checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientEvent {
    #[serde(rename = "type")]
    pub kind: ClientEventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// The query hash of the search a click came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// Unix seconds.
    pub at: i64,
}

/// Hands `message` to the analytics consumer.
pub async fn send(app: &App, message: &Ingest) -> ApiResult<()> {
    let url = app
        .settings
        .analytics_queue_url
        .as_deref()
        .ok_or_else(|| ApiError::internal("ANALYTICS_QUEUE_URL is not configured"))?;
    let body = serde_json::to_string(message).map_err(ApiError::internal)?;
    app.sqs()
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| ApiError::internal(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
    Ok(())
}

fn keyed(app: &App, label: &str, value: &str) -> ApiResult<String> {
    let key = app.tokens()?.derive_key(label);
    Ok(crate::crypto::hex(&crate::crypto::hmac_sha256(&key, value.as_bytes())[..12]))
}

/// Who sent a request, as analytics counts them.
#[derive(Clone, Debug, PartialEq)]
pub struct Visitor {
    pub visitor: String,
    pub user: Option<String>,
    /// A known crawler or script: nothing it does is counted.
    pub bot: bool,
}

impl Visitor {
    /// The caller of `req` (an invalid or expired token counts as anonymous: analytics
    /// never refuses a client over its session), with the client's session id if it sent one.
    pub fn of(app: &App, req: &crate::http::Request, session_id: Option<&str>) -> ApiResult<Visitor> {
        let user_id = crate::http::bearer_token(req)
            .and_then(|t| app.tokens().ok()?.principal(t).ok())
            .map(|p| p.user_id);
        let ua = crate::http::header_str(req, "user-agent");
        let ip = crate::http::source_ip(req);
        let day = &crate::time::now_rfc3339()[..10];
        Ok(Visitor {
            visitor: visitor_hash(app, user_id.as_deref(), session_id, &ip, ua.unwrap_or_default(), day)?,
            user: user_id.as_deref().map(|u| user_hash(app, u)).transpose()?,
            bot: is_bot(ua),
        })
    }
}

/// A signed-in user as analytics knows them (active users).
pub fn user_hash(app: &App, user_id: &str) -> ApiResult<String> {
    keyed(app, "analytics-visitors", &format!("u:{user_id}"))
}

/// Who a viewer is, for distinct counts: the signed-in user, else the client's session,
/// else the address and user agent of that day (so an anonymous visitor without a session
/// is one viewer a day, and nothing links days).
pub fn visitor_hash(
    app: &App,
    user_id: Option<&str>,
    session_id: Option<&str>,
    ip: &str,
    user_agent: &str,
    day: &str,
) -> ApiResult<String> {
    match (user_id, session_id) {
        (Some(u), _) => user_hash(app, u),
        (None, Some(s)) => keyed(app, "analytics-visitors", &format!("s:{s}")),
        (None, None) => keyed(app, "analytics-visitors", &format!("a:{day}|{ip}|{user_agent}")),
    }
}

/// The normalised text of a search query: lower case, letters, digits and single spaces,
/// at most 100 characters.
pub fn normalise_query(q: &str) -> String {
    let cleaned: String = q
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '+' || c == '#' {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    let mut out = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((i, _)) = out.char_indices().nth(100) {
        out.truncate(i);
    }
    out
}

/// The hash a search's id carries, so a click names its query without a lookup.
pub fn query_hash(app: &App, normalised: &str) -> ApiResult<String> {
    Ok(keyed(app, "analytics-queries", normalised)?[..16].to_string())
}

/// A search's id: `<ULID>.<query hash>`.
pub fn search_id(query_hash: &str) -> String {
    format!("{}.{query_hash}", ulid::Ulid::new())
}

/// The query hash of a search id; `None` for anything else.
pub fn parse_search_id(search_id: &str) -> Option<String> {
    let (id, hash) = search_id.split_once('.')?;
    let ok = id.parse::<ulid::Ulid>().is_ok() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| hash.to_ascii_lowercase())
}

/// Crawlers, link previewers and monitors that say so in their user agent; their events
/// and searches are not counted. Apps and scripts without a user agent still count: a
/// missing header is not proof of a bot.
pub fn is_bot(user_agent: Option<&str>) -> bool {
    const MARKS: &[&str] = &[
        "bot",
        "crawl",
        "spider",
        "slurp",
        "facebookexternalhit",
        "headlesschrome",
        "phantomjs",
        "lighthouse",
        "pingdom",
        "uptimerobot",
        "scrapy",
        "preview",
    ];
    let Some(ua) = user_agent.map(str::to_ascii_lowercase) else {
        return false;
    };
    MARKS.iter().any(|m| ua.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_normalise() {
        assert_eq!(normalise_query("  Senior   RUST-Developer!! "), "senior rust developer");
        assert_eq!(normalise_query("C++ / C#"), "c++ c#");
        assert_eq!(normalise_query(&"a".repeat(300)).len(), 100);
        assert_eq!(normalise_query("  "), "");
    }

    #[test]
    fn search_ids_carry_their_query_hash() {
        let id = search_id("0123456789abcdef");
        assert_eq!(parse_search_id(&id).as_deref(), Some("0123456789abcdef"));
        for bad in [
            "",
            "x.0123456789abcdef",
            "01HZ.0123",
            &format!("{}.zz23456789abcdef", ulid::Ulid::new()),
        ] {
            assert_eq!(parse_search_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn bots_are_known_by_their_agent() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0",
        ] {
            assert!(is_bot(Some(ua)), "{ua}");
        }
        assert!(!is_bot(None));
        assert!(!is_bot(Some("curl/8.5.0")));
        assert!(!is_bot(Some(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
        )));
        assert!(!is_bot(Some("Dart/3.2 (dart:io)")));
    }
}
