//! Quotas: how much of each thing one account or company may have, configurable per
//! deployment (`QUOTA_*`, from template parameters; the defaults below otherwise). Each is
//! kept by a counter changed in the same transaction as the thing it counts, with the limit
//! as the condition, so concurrent requests cannot pass it together.

use crate::error::ApiError;

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
        }
    }
}

impl Quotas {
    /// `QUOTA_COMPANIES_PER_EMPLOYER`, `QUOTA_OPEN_JOBS_PER_COMPANY`,
    /// `QUOTA_INTERVIEWS_PER_APPLICATION`, `QUOTA_REPORTS_PER_DAY`, `QUOTA_SAVED_SEARCHES`,
    /// `QUOTA_DEVICES`; unset ones keep their defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut q = Quotas::default();
        for (name, slot) in [
            ("QUOTA_COMPANIES_PER_EMPLOYER", &mut q.companies_per_employer),
            ("QUOTA_OPEN_JOBS_PER_COMPANY", &mut q.open_jobs_per_company),
            ("QUOTA_INTERVIEWS_PER_APPLICATION", &mut q.interviews_per_application),
            ("QUOTA_REPORTS_PER_DAY", &mut q.reports_per_day),
            ("QUOTA_SAVED_SEARCHES", &mut q.saved_searches),
            ("QUOTA_DEVICES", &mut q.devices),
        ] {
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
