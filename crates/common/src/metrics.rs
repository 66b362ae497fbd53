//! Metrics in CloudWatch embedded metric format (EMF): the `metrics` facade, recorded by
//! `metrics_cloudwatch_embedded`, flushed to stdout after each invocation (Lambda ships
//! stdout to CloudWatch Logs, which extracts the metrics; no API call, no extra latency).
//! Namespace `METRICS_NAMESPACE` (default `JobPlatform`), dimension `function`.
//!
//! Outside Lambda (the local stack, tests) no recorder is installed and recording is a
//! no-op; a test runs function binaries as Lambda does and reads what they write.
//!
//! | metric | unit | dimensions | from |
//! |---|---|---|---|
//! | `requests`, `errors` (4xx and 5xx), `server_errors`, `rate_limited` | count | `route` | every HTTP reply |
//! | `error_codes` | count | `code` | every error reply |
//! | `cold_starts` | count | | a container's init |
//! | `batch_size` | count | `consumer` | each SQS batch |
//! | `processing_lag` | milliseconds | `consumer` | each event: `occurred_at` to handled |
//! | `dlq_arrivals` | count | `consumer` | a message failing its last receive (it goes to the DLQ next) |

use std::sync::OnceLock;

/// Receives before SQS moves a message to its DLQ (template.yaml's `maxReceiveCount`).
pub const MAX_RECEIVES: u64 = 5;

static COLLECTOR: OnceLock<&'static metrics_cloudwatch_embedded::Collector> = OnceLock::new();

/// Installs the EMF recorder for `function` (once per container; Lambda only).
pub fn init(function: &str) {
    if COLLECTOR.get().is_some() {
        return;
    }
    let namespace = std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "JobPlatform".into());
    match metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace)
        .with_dimension("function", function.to_string())
        .init()
    {
        Ok(c) => {
            let _ = COLLECTOR.set(c);
            metrics::describe_histogram!("processing_lag", metrics::Unit::Milliseconds, "event occurred_at to handled");
            metrics::counter!("cold_starts").increment(1);
        }
        Err(e) => tracing::warn!(error = %e, "metrics recorder not installed"),
    }
}

/// Writes what was recorded since the last flush (after each invocation), with the
/// invocation's request id and trace id as properties.
pub fn flush(request_id: &str) {
    if let Some(c) = COLLECTOR.get() {
        c.set_property("request_id", request_id.to_string());
        if let Ok(trace) = std::env::var("_X_AMZN_TRACE_ID") {
            c.set_property("trace_id", trace);
        }
        if let Err(e) = c.flush(std::io::stdout()) {
            tracing::warn!(error = %e, "metrics flush failed");
        }
    }
}

/// One HTTP reply of `route` with `status`.
pub fn reply(route: &str, status: u16) {
    let route = route.to_string();
    metrics::counter!("requests", "route" => route.clone()).increment(1);
    if status >= 400 {
        metrics::counter!("errors", "route" => route.clone()).increment(1);
    }
    if status >= 500 {
        metrics::counter!("server_errors", "route" => route.clone()).increment(1);
    }
    if status == 429 {
        metrics::counter!("rate_limited", "route" => route).increment(1);
    }
}

/// An error reply with `code`.
pub fn error_code(code: &'static str) {
    metrics::counter!("error_codes", "code" => code).increment(1);
}

/// A batch of `size` messages for `consumer`.
pub fn batch(consumer: &str, size: usize) {
    metrics::histogram!("batch_size", "consumer" => consumer.to_string()).record(size as f64);
}

/// An event handled `lag_ms` after it occurred.
pub fn lag(consumer: &str, occurred_at: &str) {
    if let Some(t) = crate::time::parse_rfc3339(occurred_at) {
        let ms = (chrono::Utc::now() - t).num_milliseconds().max(0);
        metrics::histogram!("processing_lag", "consumer" => consumer.to_string()).record(ms as f64);
    }
}

/// An event that occurred at `at` (Unix seconds) handled now.
pub fn lag_since(consumer: &str, at: i64) {
    let ms = (chrono::Utc::now().timestamp_millis() - at * 1000).max(0);
    metrics::histogram!("processing_lag", "consumer" => consumer.to_string()).record(ms as f64);
}

/// A message that failed on its last receive (`ApproximateReceiveCount`).
pub fn failed(consumer: &str, receive_count: Option<&str>) {
    if receive_count.and_then(|c| c.parse::<u64>().ok()).is_some_and(|c| c >= MAX_RECEIVES) {
        metrics::counter!("dlq_arrivals", "consumer" => consumer.to_string()).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_metrics_flush_as_embedded_metric_format() {
        let c = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace("JobPlatformTest")
            .with_dimension("function", "jobs-read")
            .init()
            .unwrap();
        reply("GET /jobs/{id}", 200);
        reply("GET /jobs/{id}", 404);
        reply("POST /auth/login", 429);
        error_code("rate_limited");
        batch("notifications", 7);
        failed("notifications", Some("5"));
        failed("notifications", Some("2"));
        let mut out = Vec::new();
        c.flush(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let docs: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let find = |name: &str, dim: (&str, &str)| {
            docs.iter()
                .find(|d| d.get(name).is_some() && d[dim.0] == dim.1)
                .map(|d| d[name].clone())
        };
        assert!(docs
            .iter()
            .all(|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "JobPlatformTest"));
        assert!(docs.iter().all(|d| d["function"] == "jobs-read"));
        assert_eq!(find("requests", ("route", "GET /jobs/{id}")), Some(serde_json::json!(2)));
        assert_eq!(find("errors", ("route", "GET /jobs/{id}")), Some(serde_json::json!(1)));
        assert_eq!(find("rate_limited", ("route", "POST /auth/login")), Some(serde_json::json!(1)));
        assert_eq!(find("error_codes", ("code", "rate_limited")), Some(serde_json::json!(1)));
        assert_eq!(find("dlq_arrivals", ("consumer", "notifications")), Some(serde_json::json!(1)));
        assert!(find("batch_size", ("consumer", "notifications")).is_some());
    }
}
