//! Time in the two forms the platform stores: epoch seconds (for TTL and comparisons) and
//! RFC 3339 UTC (for clients).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

pub fn now_secs() -> i64 {
    Utc::now().timestamp()
}

pub fn rfc3339(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}
