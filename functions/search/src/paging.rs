//! Search pages: `limit` (1-50) and a sealed cursor bound to the search's parameters,
//! holding the sort values of the last hit and the depth reached (at most 1000).

use common::db::{n, s, Item};
use common::http::{query_param, Request};
use common::{ApiError, ApiResult, App};
use serde_json::Value;

use crate::params::{MAX_DEPTH, MAX_LIMIT};

/// Where a page starts: its size, the sort values of the previous page's last hit, and how
/// many results came before.
pub struct Paging {
    pub size: usize,
    pub after: Option<Vec<Value>>,
    pub depth: usize,
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("the cursor is not valid for this search").with_code("invalid_cursor")
}

/// `limit` (1-50, default 20) and the sealed `cursor` of a search bound to `context`.
pub fn paging(app: &App, req: &Request, context: &str) -> ApiResult<Paging> {
    let size = match query_param(req, "limit") {
        None => 20,
        Some(l) => match l.trim().parse::<usize>() {
            Ok(v) if (1..=MAX_LIMIT).contains(&v) => v,
            _ => {
                return Err(ApiError::bad_request(format!("limit must be a whole number from 1 to {MAX_LIMIT}")).with_code("invalid_limit"))
            }
        },
    };
    let Some(cursor) = query_param(req, "cursor").filter(|c| !c.is_empty()) else {
        return Ok(Paging {
            size,
            after: None,
            depth: 0,
        });
    };
    let item = app.cursors()?.decode(context, &cursor)?;
    let after = common::db::get_s(&item, "a").and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok());
    let depth = common::db::get_n(&item, "d").filter(|d| *d >= 0);
    match (after, depth) {
        (Some(after), Some(depth)) => Ok(Paging {
            size: size.min(MAX_DEPTH.saturating_sub(depth as usize)),
            after: Some(after),
            depth: depth as usize,
        }),
        _ => Err(bad_cursor()),
    }
}

/// The cursor after a full page, unless the search is at its deepest.
pub fn next_cursor(app: &App, context: &str, paging: &Paging, got: usize, last_sort: Option<&Vec<Value>>) -> ApiResult<Option<String>> {
    let (Some(depth), Some(last)) = (next_depth(paging, got), last_sort) else {
        return Ok(None);
    };
    let Ok(last) = serde_json::to_string(last) else {
        return Ok(None);
    };
    let item: Item = [("a".to_string(), s(last)), ("d".to_string(), n(depth))].into_iter().collect();
    Ok(Some(app.cursors()?.encode(context, &item)))
}

/// The depth after a page of `got` hits, if there may be more to read.
pub fn next_depth(paging: &Paging, got: usize) -> Option<usize> {
    let depth = paging.depth + got;
    (got >= paging.size && got > 0 && depth < MAX_DEPTH).then_some(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stop_at_the_end_and_at_the_deepest() {
        let p = |size, depth| Paging { size, after: None, depth };
        assert_eq!(next_depth(&p(20, 0), 20), Some(20));
        assert_eq!(next_depth(&p(20, 0), 7), None, "a short page is the last");
        assert_eq!(next_depth(&p(50, 950), 50), None, "1000 deep at most");
        assert_eq!(next_depth(&p(10, 980), 10), Some(990));
    }
}
