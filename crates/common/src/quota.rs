//! Quotas: how much of each thing one account or company may have, configurable per
//! deployment (`QUOTA_*`, from template parameters; the defaults below otherwise). Each is
//! kept by a counter changed in the same transaction as the thing it counts, with the limit
//! as the condition, so concurrent requests cannot pass it together.

use crate::db::{self, n};
use crate::error::ApiError;
use crate::tx::{Cond, Tx};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Companies an employer may create.
    pub companies_per_employer: i64,
    /// Open (published) jobs per company at once.
    pub open_jobs_per_company: i64,
    /// Interviews per application.
    pub interviews_per_application: i64,
    /// Job reports per user per UTC day.
    pub reports_per_day: i64,
    /// Saved searches per user.
    pub saved_searches: i64,
    /// Push devices per user.
    pub devices: i64,
    /// Applications per seeker per UTC day.
    pub applications_per_day: i64,
    /// Invitations per company per UTC day.
    pub invitations_per_day: i64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            companies_per_employer: 5,
            open_jobs_per_company: 200,
            interviews_per_application: 10,
            reports_per_day: 20,
            saved_searches: 25,
            devices: 10,
            applications_per_day: 50,
            invitations_per_day: 20,
        }
    }
}

impl Quotas {
    /// The environment variable of each quota, with its slot.
    fn slots(&mut self) -> [(&'static str, &mut i64); 8] {
        [
            ("QUOTA_COMPANIES_PER_EMPLOYER", &mut self.companies_per_employer),
            ("QUOTA_OPEN_JOBS_PER_COMPANY", &mut self.open_jobs_per_company),
            ("QUOTA_INTERVIEWS_PER_APPLICATION", &mut self.interviews_per_application),
            ("QUOTA_REPORTS_PER_DAY", &mut self.reports_per_day),
            ("QUOTA_SAVED_SEARCHES", &mut self.saved_searches),
            ("QUOTA_DEVICES", &mut self.devices),
            ("QUOTA_APPLICATIONS_PER_DAY", &mut self.applications_per_day),
            ("QUOTA_INVITATIONS_PER_DAY", &mut self.invitations_per_day),
        ]
    }

    /// Each quota's environment variable and value (the template's parameters must agree
    /// with the defaults: tests/it/operations.rs).
    pub fn vars(&self) -> Vec<(&'static str, i64)> {
        let mut q = self.clone();
        q.slots().into_iter().map(|(k, v)| (k, *v)).collect()
    }

    /// The `QUOTA_*` variables of [`Quotas::vars`]; unset ones keep their defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut q = Quotas::default();
        for (name, slot) in q.slots() {
            if let Some(raw) = get(name).filter(|v| !v.trim().is_empty()) {
                *slot = raw
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or(format!("{name}={raw:?} is not a positive number"))?;
            }
        }
        Ok(q)
    }
}

/// A quota that renews each UTC day, kept by a counter item `(pk, <prefix>#<date>)` added to
/// in the transaction of the thing it counts, on condition that it is below the limit.
pub struct Daily {
    name: &'static str,
    limit: i64,
    key: db::Item,
}

impl Daily {
    /// `name`: the quota's name in `details`; the counter lives in partition `pk`.
    pub fn new(name: &'static str, limit: i64, pk: String, prefix: &str) -> Daily {
        let day = &crate::time::now_rfc3339()[..10];
        Daily {
            name,
            limit,
            key: db::key(pk, format!("{prefix}#{day}")),
        }
    }

    /// `tx` counting one more as its part `part` (a condition failure there is [`Daily::exceeded`]).
    pub fn count<'a>(&self, tx: Tx<'a>, part: &'static str) -> Tx<'a> {
        let add = Cond::new("ADD #count :one SET #ttl = :ttl")
            .name("#count", "count")
            .name("#ttl", db::TTL)
            .value(":one", n(1))
            .value(":ttl", n(crate::time::now_secs() + 2 * 86_400));
        tx.update(part, self.key.clone(), add, Some(Cond::below("count", self.limit)))
    }

    /// 429 `quota_exceeded`, to retry at the next UTC midnight.
    pub fn exceeded(&self, what: &str) -> ApiError {
        let until_midnight = (86_400 - crate::time::now_secs().rem_euclid(86_400)).max(1) as u64;
        exceeded_for_now(
            self.name,
            self.limit,
            until_midnight,
            format!("at most {} {what} a day", self.limit),
        )
    }
}

/// 409 `quota_exceeded` naming the quota and its limit (`details`).
pub fn exceeded(quota: &str, limit: i64, message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    let mut e = ApiError::conflict("quota_exceeded", message);
    e.details = Some(serde_json::json!({"quota": quota, "limit": limit}));
    e
}

/// 429 `quota_exceeded` for a quota that renews (per day), retry after `retry_after` seconds.
pub fn exceeded_for_now(quota: &str, limit: i64, retry_after: u64, message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    let mut e = ApiError::too_many_requests(retry_after, message).with_code("quota_exceeded");
    e.details = Some(serde_json::json!({"quota": quota, "limit": limit}));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_quotas_keep_their_defaults_and_bad_ones_are_errors() {
        let q = Quotas::from_lookup(|k| (k == "QUOTA_DEVICES").then(|| "3".to_string())).unwrap();
        assert_eq!((q.devices, q.saved_searches), (3, 25));
        assert!(Quotas::from_lookup(|k| (k == "QUOTA_REPORTS_PER_DAY").then(|| "0".to_string())).is_err());
        let e = exceeded("devices", 3, "at most 3 devices");
        assert_eq!((e.status.as_u16(), e.code), (409, "quota_exceeded"));
        assert_eq!(e.details.unwrap()["limit"], 3);
    }
}
