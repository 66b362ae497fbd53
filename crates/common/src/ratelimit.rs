//! Rate limits of the HTTP API: a budget per caller (signed-in calls by account, anonymous
//! ones by source IP) and tighter budgets for sensitive routes, in fixed windows.
//!
//! One UpdateItem per request counts the call: item `RATE#<caller hash>` / `W#<window>` with `ADD`
//! on the caller's total and, for a route with its own budget, that route's count (so at most
//! one extra write per request). A caller known to be over a budget is refused from memory
//! until the window ends (no write), so a flood writes to its counter only until each
//! container has seen it exhausted: no hot item. Items expire with TTL after their window.
//! If the table cannot be reached the call is let through (logged): limits protect the
//! service, they must not take it down.
//!
//! Configured by `RATE_LIMIT_WINDOW_SECONDS`, `RATE_LIMIT_ANONYMOUS`, `RATE_LIMIT_SIGNED_IN`
//! and `RATE_LIMIT_ROUTES` (`"POST /auth/login=20;GET /search/suggest=600"`), from the
//! template's parameters; without them there are no limits.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::app::App;
use crate::db::{n, s};

/// The budgets of one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub window_secs: i64,
    /// Requests per window per source IP without a (valid) token.
    pub anonymous: u64,
    /// Requests per window per account.
    pub signed_in: u64,
    /// Requests per window per caller to one route (`"POST /auth/login"`).
    pub routes: HashMap<String, u64>,
}

fn positive(name: &str, raw: &str) -> Result<u64, String> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(format!("{name}={raw:?} is not a positive number"))
}

impl RateLimits {
    /// From the environment's variables; `Ok(None)` when limits are not configured.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let (Some(anonymous), Some(signed_in)) = (var("RATE_LIMIT_ANONYMOUS"), var("RATE_LIMIT_SIGNED_IN")) else {
            return Ok(None);
        };
        let window = var("RATE_LIMIT_WINDOW_SECONDS").unwrap_or_else(|| "3600".into());
        Ok(Some(RateLimits {
            window_secs: positive("RATE_LIMIT_WINDOW_SECONDS", &window)? as i64,
            anonymous: positive("RATE_LIMIT_ANONYMOUS", &anonymous)?,
            signed_in: positive("RATE_LIMIT_SIGNED_IN", &signed_in)?,
            routes: parse_routes(&var("RATE_LIMIT_ROUTES").unwrap_or_default())?,
        }))
    }
}

/// `"POST /auth/login=20; GET /search/suggest=600"` -> route -> budget.
pub fn parse_routes(raw: &str) -> Result<HashMap<String, u64>, String> {
    raw.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (route, limit) = part
                .rsplit_once('=')
                .ok_or(format!("RATE_LIMIT_ROUTES: {part:?} is not <METHOD> <path>=<limit>"))?;
            let route = route.split_whitespace().collect::<Vec<_>>().join(" ");
            if route.split(' ').count() != 2 || !route.contains(" /") {
                return Err(format!("RATE_LIMIT_ROUTES: {route:?} is not <METHOD> <path>"));
            }
            Ok((route, positive("RATE_LIMIT_ROUTES", limit)?))
        })
        .collect()
}

/// Who a budget belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    Account(String),
    Ip(String),
}

impl Caller {
    /// The counter's key: a keyed hash of the account id or address, so counters hold no
    /// personal data (nothing to erase, nothing to export; they expire within the hour).
    pub fn key(&self, keys: &crate::token::TokenKeys) -> String {
        let (kind, raw) = match self {
            Caller::Account(id) => ("u", id.as_str()),
            Caller::Ip(ip) => ("ip", ip.as_str()),
        };
        let mac = crate::crypto::hmac_sha256(&keys.derive_key("rate-limit-callers"), format!("{kind}:{raw}").as_bytes());
        format!("{kind}:{}", crate::crypto::hex(&mac[..12]))
    }
}

/// One budget as the headers name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// `anonymous`, `signed_in`, or the route.
    pub policy: String,
    pub limit: u64,
    pub used: u64,
}

impl Usage {
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
    pub fn exceeded(&self) -> bool {
        self.used > self.limit
    }
}

/// What the limiter decided for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub window_secs: i64,
    /// Seconds until the window resets.
    pub reset_secs: u64,
    /// The caller's budget, then the route's when it has one.
    pub usage: Vec<Usage>,
}

impl Decision {
    /// The budget the request went over, if any.
    pub fn exceeded(&self) -> Option<&Usage> {
        self.usage.iter().find(|u| u.exceeded())
    }

    /// `RateLimit-Policy`: every budget that applies (IETF RateLimit header fields).
    pub fn policy_header(&self) -> String {
        self.usage
            .iter()
            .map(|u| format!("\"{}\";q={};w={}", u.policy, u.limit, self.window_secs))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `RateLimit`: the budget closest to running out, what is left, when it resets.
    pub fn limit_header(&self) -> String {
        let tightest = self.usage.iter().min_by_key(|u| u.remaining());
        match tightest {
            Some(u) => format!("\"{}\";r={};t={}", u.policy, u.remaining(), self.reset_secs),
            None => String::new(),
        }
    }
}

/// (caller, route when it is a route's budget).
type BudgetKey = (String, Option<String>);

/// Callers known to be over a budget, per window: refused without a write.
#[derive(Default)]
pub struct Exhausted {
    known: Mutex<HashMap<BudgetKey, (i64, Usage)>>,
}

impl Exhausted {
    fn get(&self, caller: &str, route: Option<&str>, window: i64) -> Option<Usage> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(&(caller.to_string(), route.map(str::to_string)))
            .filter(|(w, _)| *w == window)
            .map(|(_, u)| u.clone())
    }

    fn remember(&self, caller: &str, route: Option<&str>, window: i64, usage: Usage) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() > 10_000 {
            known.retain(|_, (w, _)| *w == window);
        }
        known.insert((caller.to_string(), route.map(str::to_string)), (window, usage));
    }
}

/// The decision for a caller (`key`: [`Caller::key`]) this container already knows to be
/// over a budget in this window: the request is refused before any work, with no call.
pub fn known_over(app: &App, limits: &RateLimits, key: &str, route: &str, now: i64) -> Option<Decision> {
    let window = now.div_euclid(limits.window_secs);
    let usage: Vec<Usage> = [
        app.rate_cache().get(key, None, window),
        limits
            .routes
            .get(route)
            .and_then(|_| app.rate_cache().get(key, Some(route), window)),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!usage.is_empty()).then(|| Decision {
        window_secs: limits.window_secs,
        reset_secs: ((window + 1) * limits.window_secs - now).max(1) as u64,
        usage,
    })
}

/// Counts this request against the budgets of `caller` (`key`: [`Caller::key`]) and decides
/// (one UpdateItem); `route` is the route key (`"POST /auth/login"`). Budgets it goes over are
/// remembered for [`known_over`].
pub async fn count(app: &App, limits: &RateLimits, caller: &Caller, key: &str, route: &str, now: i64) -> Decision {
    let window = now.div_euclid(limits.window_secs);
    let reset_secs = ((window + 1) * limits.window_secs - now).max(1) as u64;
    let (policy, limit) = match caller {
        Caller::Account(_) => ("signed_in", limits.signed_in),
        Caller::Ip(_) => ("anonymous", limits.anonymous),
    };
    let route_limit = limits.routes.get(route).copied();
    let decision = |usage: Vec<Usage>| Decision {
        window_secs: limits.window_secs,
        reset_secs,
        usage,
    };
    let mut update = app
        .dynamo()
        .update_item()
        .table_name(app.table())
        .key(crate::db::PK, s(format!("RATE#{key}")))
        .key(crate::db::SK, s(format!("W#{window}")))
        .update_expression(if route_limit.is_some() {
            "ADD #all :one, #route :one SET #ttl = :ttl"
        } else {
            "ADD #all :one SET #ttl = :ttl"
        })
        .expression_attribute_names("#all", "all")
        .expression_attribute_names("#ttl", crate::db::TTL)
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":ttl", n((window + 1) * limits.window_secs + 60))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew);
    if route_limit.is_some() {
        update = update.expression_attribute_names("#route", route);
    }
    let counts = match update.send().await {
        Ok(out) => out.attributes.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), "rate limit not counted; the call goes through");
            return decision(vec![]);
        }
    };
    let count = |name: &str| crate::db::get_n(&counts, name).unwrap_or(0).max(0) as u64;
    let mut usage = vec![Usage {
        policy: policy.to_string(),
        limit,
        used: count("all"),
    }];
    if let Some(l) = route_limit {
        usage.push(Usage {
            policy: route.to_string(),
            limit: l,
            used: count(route),
        });
    }
    for (u, r) in usage.iter().zip([None, Some(route)]) {
        if u.exceeded() {
            app.rate_cache().remember(key, r, window, u.clone());
        }
    }
    decision(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_parses_or_says_what_is_wrong() {
        let env =
            |pairs: &'static [(&'static str, &'static str)]| move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        assert_eq!(RateLimits::from_lookup(env(&[])).unwrap(), None);
        let l = RateLimits::from_lookup(env(&[
            ("RATE_LIMIT_ANONYMOUS", "100"),
            ("RATE_LIMIT_SIGNED_IN", "1000"),
            ("RATE_LIMIT_ROUTES", "POST /auth/login=20; GET  /search/suggest=600;"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((l.window_secs, l.anonymous, l.signed_in), (3600, 100, 1000));
        assert_eq!(l.routes["POST /auth/login"], 20);
        assert_eq!(l.routes["GET /search/suggest"], 600);
        assert!(parse_routes("POST /auth/login").is_err());
        assert!(parse_routes("/auth/login=3").is_err());
        assert!(parse_routes("POST /auth/login=0").is_err());
        assert!(RateLimits::from_lookup(env(&[("RATE_LIMIT_ANONYMOUS", "x"), ("RATE_LIMIT_SIGNED_IN", "1")])).is_err());
    }

    #[test]
    fn headers_name_every_policy_and_the_tightest_remaining() {
        let d = Decision {
            window_secs: 3600,
            reset_secs: 120,
            usage: vec![
                Usage {
                    policy: "anonymous".into(),
                    limit: 100,
                    used: 10,
                },
                Usage {
                    policy: "POST /auth/login".into(),
                    limit: 20,
                    used: 19,
                },
            ],
        };
        assert_eq!(d.policy_header(), "\"anonymous\";q=100;w=3600, \"POST /auth/login\";q=20;w=3600");
        assert_eq!(d.limit_header(), "\"POST /auth/login\";r=1;t=120");
        assert!(d.exceeded().is_none());
        let mut over = d.clone();
        over.usage[1].used = 21;
        assert_eq!(over.exceeded().unwrap().policy, "POST /auth/login");
        assert_eq!(over.limit_header(), "\"POST /auth/login\";r=0;t=120");
    }
}
