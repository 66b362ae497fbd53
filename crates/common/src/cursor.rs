//! Cursor pagination: `?limit=` (default 20, max 100) and opaque, tamper-proof `?cursor=`.
//!
//! A cursor is the DynamoDB `LastEvaluatedKey` sealed with AES-256-GCM under a key derived
//! from configuration, with the query's context (route, caller, filters) as associated
//! data. An altered cursor, or one issued for another query or caller, fails to open: 400.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::crypto;
use crate::db::Item;
use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: i32 = 20;
pub const MAX_LIMIT: i32 = 100;
const MAX_CURSOR_LEN: usize = 2048;

/// A page of a list reply: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl CursorCodec {
    pub fn new(key: [u8; 32]) -> Self {
        CursorCodec { key }
    }

    pub fn encode(&self, context: &str, last_key: &Item) -> String {
        let mut m: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        for (k, v) in last_key {
            match v {
                AttributeValue::S(s) => m.insert(k, ("S", s)),
                AttributeValue::N(n) => m.insert(k, ("N", n)),
                _ => None, // key attributes are strings or numbers in this table
            };
        }
        let plain = serde_json::to_vec(&m).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(crypto::seal(&self.key, context.as_bytes(), &plain))
    }

    pub fn decode(&self, context: &str, cursor: &str) -> ApiResult<Item> {
        let bad = || ApiError::bad_request("the cursor is not valid for this list").with_code("invalid_cursor");
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let sealed = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
        let plain = crypto::open(&self.key, context.as_bytes(), &sealed).ok_or_else(bad)?;
        let m: BTreeMap<String, (String, String)> = serde_json::from_slice(&plain).map_err(|_| bad())?;
        let mut item = HashMap::with_capacity(m.len());
        for (k, (t, v)) in m {
            let av = match t.as_str() {
                "S" => AttributeValue::S(v),
                "N" => AttributeValue::N(v),
                _ => return Err(bad()),
            };
            item.insert(k, av);
        }
        Ok(item)
    }
}

/// `?limit=` and `?cursor=` of a list request whose query context is `context` (route,
/// caller where it matters, filters): the page size and the key to start after.
pub fn page_request(app: &crate::App, req: &crate::http::Request, context: &str) -> ApiResult<(i32, Option<Item>)> {
    let limit = parse_limit(crate::http::query_param(req, "limit").as_deref())?;
    let start = match crate::http::query_param(req, "cursor").filter(|c| !c.is_empty()) {
        Some(c) => Some(app.cursors()?.decode(context, &c)?),
        None => None,
    };
    Ok((limit, start))
}

/// The `next_cursor` of a page: the sealed `LastEvaluatedKey`, if there is more.
pub fn next_cursor(app: &crate::App, context: &str, last_evaluated_key: Option<&Item>) -> ApiResult<Option<String>> {
    match last_evaluated_key.filter(|k| !k.is_empty()) {
        Some(k) => Ok(Some(app.cursors()?.encode(context, k))),
        None => Ok(None),
    }
}

/// One key-condition list: a partition of the table or of an index, in sort-key order.
pub struct ListQuery<'a> {
    /// `None` for the table itself.
    pub index: Option<&'a str>,
    /// The partition key attribute (`PK`, `GSI1PK`, ...).
    pub key_name: &'a str,
    pub key: String,
    pub newest_first: bool,
}

/// Reads one page of `query` for a list request: `?limit=` and `?cursor=` (bound to
/// `context`), items deserialised into `T`, the next cursor sealed. One Query call.
pub async fn query_page<T: serde::de::DeserializeOwned>(
    app: &crate::App,
    req: &crate::http::Request,
    context: &str,
    query: ListQuery<'_>,
) -> ApiResult<Page<T>> {
    let (limit, start) = page_request(app, req, context)?;
    let out = app
        .dynamo()
        .query()
        .table_name(app.table())
        .set_index_name(query.index.map(str::to_string))
        .key_condition_expression("#k = :k")
        .expression_attribute_names("#k", query.key_name)
        .expression_attribute_values(":k", AttributeValue::S(query.key))
        .scan_index_forward(!query.newest_first)
        .limit(limit)
        .set_exclusive_start_key(start)
        .send()
        .await?;
    let items = out
        .items
        .unwrap_or_default()
        .into_iter()
        .map(crate::db::from_item)
        .collect::<ApiResult<Vec<T>>>()?;
    Ok(Page {
        items,
        next_cursor: next_cursor(app, context, out.last_evaluated_key.as_ref())?,
    })
}

/// Parses `?limit=`: absent -> 20; 1..=100 accepted; anything else -> 400.
pub fn parse_limit(raw: Option<&str>) -> ApiResult<i32> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => match s.trim().parse::<i32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!("limit must be a whole number from 1 to {MAX_LIMIT}")).with_code("invalid_limit")),
        },
    }
}

/// A FilterExpression under construction: placeholders are numbered so clauses compose.
#[derive(Default)]
pub struct Filter {
    clauses: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Filter {
    /// `#attr`, registered.
    pub fn name(&mut self, attr: &str) -> String {
        let key = format!("#{attr}");
        self.names.insert(key.clone(), attr.to_string());
        key
    }
    /// `:vN`, registered.
    pub fn value(&mut self, v: AttributeValue) -> String {
        let key = format!(":v{}", self.values.len());
        self.values.insert(key.clone(), v);
        key
    }
    /// A clause written with placeholders from [`Filter::name`] and [`Filter::value`].
    pub fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    pub fn equals(&mut self, attr: &str, v: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(v));
        self.raw(format!("{n} = {v}"));
    }
    /// `attr IN (...)`; nothing when `values` is empty.
    pub fn one_of(&mut self, attr: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let name = self.name(attr);
        let vals = values
            .iter()
            .map(|v| self.value(AttributeValue::S(v.clone())))
            .collect::<Vec<_>>()
            .join(", ");
        self.raw(format!("{name} IN ({vals})"));
    }
    pub fn len(&self) -> usize {
        self.clauses.len()
    }
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }
    /// The expression (clauses joined with AND) and its names and values.
    pub fn into_parts(self) -> (Option<String>, HashMap<String, String>, HashMap<String, AttributeValue>) {
        let expr = (!self.clauses.is_empty()).then(|| self.clauses.join(" AND "));
        (expr, self.names, self.values)
    }
}

/// Query calls one filtered page may make.
pub const MAX_READS: usize = 5;
/// Items one Query call of a filtered page evaluates.
pub const FILTERED_READ: i32 = 200;

/// One partition of an index, newest first, with a filter.
pub struct IndexQuery<'a> {
    /// `GSI1`...: its key attributes are `<index>PK` / `<index>SK`.
    pub index: &'a str,
    pub key: String,
    pub filter: Filter,
    /// Items per Query call; `None`: the page size when the filter is empty, else
    /// [`FILTERED_READ`].
    pub per_read: Option<i32>,
}

impl<'a> IndexQuery<'a> {
    pub fn newest_first(index: &'a str, key: String, filter: Filter) -> Self {
        IndexQuery {
            index,
            key,
            filter,
            per_read: None,
        }
    }
}

/// A page of `q` for a list request (`?limit=`, `?cursor=` bound to `context`): keeps
/// reading (at most [`MAX_READS`] Queries) until `limit` items pass the filter, and seals as
/// cursor the key of the last item it returns, so nothing is skipped or repeated.
pub async fn filtered_page(app: &crate::App, req: &crate::http::Request, context: &str, q: IndexQuery<'_>) -> ApiResult<Page<Item>> {
    let (limit, mut start) = page_request(app, req, context)?;
    let limit_n = limit as usize;
    let (pk_name, sk_name) = (format!("{}PK", q.index), format!("{}SK", q.index));
    let per_read = q
        .per_read
        .unwrap_or(if q.filter.is_empty() { limit } else { FILTERED_READ.max(limit) });
    let (filter, mut names, mut values) = q.filter.into_parts();
    names.insert("#k".into(), pk_name.clone());
    values.insert(":k".into(), AttributeValue::S(q.key));

    let mut kept: Vec<Item> = Vec::with_capacity(limit_n);
    let mut next: Option<Item> = None;
    for read in 1..=MAX_READS {
        let out = app
            .dynamo()
            .query()
            .table_name(app.table())
            .index_name(q.index)
            .key_condition_expression("#k = :k")
            .set_filter_expression(filter.clone())
            .set_expression_attribute_names(Some(names.clone()))
            .set_expression_attribute_values(Some(values.clone()))
            .scan_index_forward(false)
            .limit(per_read)
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        let mut matched = out.items.unwrap_or_default().into_iter();
        for item in matched.by_ref() {
            kept.push(item);
            if kept.len() == limit_n {
                break;
            }
        }
        let more_here = matched.next().is_some();
        if kept.len() == limit_n {
            next = if more_here {
                kept.last().map(|last| {
                    [crate::db::PK, crate::db::SK, pk_name.as_str(), sk_name.as_str()]
                        .into_iter()
                        .filter_map(|k| last.get(k).map(|v| (k.to_string(), v.clone())))
                        .collect()
                })
            } else {
                out.last_evaluated_key
            };
            break;
        }
        match out.last_evaluated_key {
            None => break,
            Some(k) if read == MAX_READS => next = Some(k),
            Some(k) => start = Some(k),
        }
    }
    Ok(Page {
        items: kept,
        next_cursor: next_cursor(app, context, next.as_ref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codec() -> CursorCodec {
        CursorCodec::new([3u8; 32])
    }

    fn sample() -> Item {
        HashMap::from([
            ("PK".to_string(), AttributeValue::S("USER#01ABC".into())),
            ("SK".to_string(), AttributeValue::S("JOB#2026".into())),
            ("GSI1SK".to_string(), AttributeValue::N("42".into())),
        ])
    }

    #[test]
    fn round_trip() {
        let c = codec().encode("jobs|u1", &sample());
        assert_eq!(codec().decode("jobs|u1", &c).unwrap(), sample());
    }

    #[test]
    fn foreign_context_or_key_is_rejected() {
        let c = codec().encode("jobs|u1", &sample());
        assert_eq!(codec().decode("jobs|u2", &c).unwrap_err().code, "invalid_cursor");
        assert!(CursorCodec::new([4u8; 32]).decode("jobs|u1", &c).is_err());
        assert!(codec().decode("jobs|u1", "").is_err());
        assert!(codec().decode("jobs|u1", &"A".repeat(5000)).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None).unwrap(), 20);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "abc", "1.5", ""] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_single_change_is_rejected(pos in 0usize..1000, ch in proptest::char::range('-', 'z')) {
            let c = codec().encode("ctx", &sample());
            let mut chars: Vec<char> = c.chars().collect();
            let i = pos % chars.len();
            prop_assume!(chars[i] != ch);
            chars[i] = ch;
            let altered: String = chars.into_iter().collect();
            prop_assert!(codec().decode("ctx", &altered).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(s in ".{0,300}") {
            let _ = codec().decode("ctx", &s);
        }
    }
}
