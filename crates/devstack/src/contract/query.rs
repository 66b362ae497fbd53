//! The query parameters and headers of the document: the filters, their vocabularies and
//! lists, paging, and the Idempotency-Key header, as the parsers read them.

use serde_json::{json, Map, Value};

/// A category slug (categories::rules::Slug): lower-case letters, digits and inner dashes.
pub(super) const SLUG: &str = "[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?";

/// `a|b|c` as a comma-separated list of those words, or empty (no filter).
fn words(alternatives: &str) -> Value {
    json!({"type": "string", "pattern": format!("^(({alternatives})(,({alternatives}))*)?$")})
}

/// Filters parsed the same way wherever they appear (common::vocab, the listing and
/// search parsers): the schema each accepts.
fn query_rule(name: &str) -> Option<(Value, ())> {
    use common::values::{LAT_MAX, LON_MAX};
    let v = match name {
        "employment_type" => words("full_time|part_time|contract|temporary|internship"),
        "experience_level" => words("entry|mid|senior|lead|executive"),
        "workplace" => words("on_site|remote|hybrid"),
        "country" => {
            json!({"type": "string", "pattern": format!("^([A-Za-z]{{2}}(,[A-Za-z]{{2}}){{0,{}}})?$", jobs::listing::MAX_VALUES - 1)})
        }
        "currency" => json!({"type": "string", "pattern": "^([A-Za-z]{3})?$"}),
        "salary_period" => json!({"type": "string", "pattern": "^(year|month|hour)?$"}),
        "sort" => json!({"type": "string", "pattern": "^(relevance|date|salary)?$"}),
        "granularity" => json!({"type": "string", "pattern": "^(day|week)?$"}),
        "posted_within" => {
            let days = &search::params::POSTED_WITHIN_DAYS;
            json!({"type": "integer", "minimum": days.start(), "maximum": days.end()})
        }
        "radius_km" => {
            let km = &search::params::RADIUS_KM;
            json!({"type": "number", "minimum": km.start(), "maximum": km.end()})
        }
        "lat" => json!({"type": "number", "minimum": -LAT_MAX, "maximum": LAT_MAX}),
        "lon" => json!({"type": "number", "minimum": -LON_MAX, "maximum": LON_MAX}),
        "from" | "to" => json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
        "salary_min" | "salary_max" => json!({"type": "integer", "minimum": 0, "maximum": common::values::SALARY_MAX}),
        _ => return None,
    };
    Some((v, ()))
}

/// Comma-separated filters of the listing and searches (each part trimmed, empty parts
/// skipped, at most 20 values) and their free-text `q`, by route.
fn list_rule(path: &str, name: &str) -> Option<Value> {
    let listing = matches!(path, "/jobs" | "/search/jobs");
    let more = jobs::listing::MAX_VALUES - 1;
    let list = |part: &str| json!({"type": "string", "pattern": format!("^\\s*(({part})\\s*(,\\s*({part})\\s*){{0,{more}}})?$")});
    let text = format!("[^,]{{0,{}}}", jobs::listing::VALUE_MAX);
    let text = text.as_str();
    let ulid = "[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}";
    Some(match (path, name) {
        (_, "category") if listing => list(SLUG),
        (_, "company_id") if listing => list(ulid),
        (_, "city") if listing || path == "/candidates" => list(text),
        ("/candidates", "skills") | ("/search/companies", "industry") => list(text),
        ("/admin/audit", "entity_type" | "entity_id" | "actor_id") => {
            json!({"type": "string", "pattern": format!("^[ !-\"$-~]{{0,{}}}$", admin::AUDIT_FILTER_MAX)})
        }
        ("/search/jobs", "location") => json!({"type": "string", "maxLength": search::params::LOCATION_MAX}),
        ("/search/jobs" | "/candidates", "q") => json!({"type": "string", "maxLength": search::params::Q_MAX}),
        ("/search/companies" | "/search/suggest", "q") => json!({"type": "string", "maxLength": search::params::SHORT_Q_MAX}),
        _ => return None,
    })
}

/// The shared query parameters, parsed by the same functions on every route.
pub(super) fn constrain_parameters(path: &str, op: &mut Map<String, Value>) {
    let Some(ps) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in ps {
        if p["in"] == "header" && p["name"] == "Idempotency-Key" {
            // 1 to 255 visible ASCII characters (HTTP drops surrounding spaces).
            p["schema"] = json!({"type": "string", "pattern": r"^[ \t]*[!-~]{1,255}[ \t]*$"});
            continue;
        }
        if p["in"] != "query" {
            continue;
        }
        if p["name"] == "status" {
            // One status (not a list); empty is no filter.
            let one = |alternatives: &str| json!({"type": "string", "pattern": format!("^({alternatives})?$")});
            p["schema"] = match path {
                "/me/jobs" => one("draft|published|closed|expired|suspended"),
                _ => one("submitted|reviewed|shortlisted|interviewing|offered|hired|rejected|withdrawn"),
            };
            continue;
        }
        if let Some(schema) = list_rule(path, p["name"].as_str().unwrap_or_default()) {
            p["schema"] = schema;
            continue;
        }
        if p["name"] == "role" {
            p["schema"] = json!({"type": "string", "pattern": "^(seeker|employer|admin)?$"});
            continue;
        }
        match p["name"].as_str() {
            Some("limit") => {
                // Searches page through at most 50 hits at a time (search::paging).
                let max = if path.starts_with("/search/") || path == "/candidates" {
                    search::params::MAX_LIMIT
                } else {
                    common::cursor::MAX_LIMIT as usize
                };
                p["schema"] = json!({"type": "integer", "minimum": 1, "maximum": max, "default": common::cursor::DEFAULT_LIMIT});
                p["description"] = json!("items per page");
            }
            Some(name) if query_rule(name).is_some() => {
                let (schema, _) = query_rule(name).unwrap_or_default();
                let ty = p["schema"]["type"].clone();
                p["schema"] = schema;
                if p["schema"].get("type").is_none() {
                    p["schema"]["type"] = ty;
                }
            }
            Some("cursor") => {
                p["schema"] = json!({"type": "string", "maxLength": 2048, "pattern": "^[A-Za-z0-9_-]*$"});
                p["description"] = json!("`next_cursor` of the previous page, as it came: opaque and bound to this list, caller and filters (otherwise 400 `invalid_cursor`); empty or absent: the first page");
            }
            _ => {}
        }
    }
}
