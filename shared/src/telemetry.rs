//! JSON logs for CloudWatch. Credentials are never fields of any event.

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .try_init();
}

/// An error and its causes, for the log (never for a client).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// CloudWatch's namespace for Refnet's own metrics; the template's alarms name it.
pub const METRICS_NAMESPACE: &str = "Refnet";

/// One log line in CloudWatch's embedded metric format: Lambda's logs turn it into metrics
/// (no API call, no extra permission), which the template's alarms watch.
pub fn metrics_line(values: &[(&str, u64)], at_ms: u64) -> String {
    let names: Vec<serde_json::Value> = values
        .iter()
        .map(|(n, _)| serde_json::json!({ "Name": n, "Unit": "Count" }))
        .collect();
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [[]],
                "Metrics": names,
            }],
        },
    });
    for (n, v) in values {
        line[*n] = serde_json::json!(v);
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_line_names_each_value() {
        let l: serde_json::Value =
            serde_json::from_str(&metrics_line(&[("RepairFixes", 2), ("StalledJobs", 0)], 7))
                .unwrap();
        assert_eq!(l["RepairFixes"], 2);
        assert_eq!(l["StalledJobs"], 0);
        assert_eq!(l["_aws"]["Timestamp"], 7);
        let m = &l["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Refnet");
        assert_eq!(m["Metrics"][1]["Name"], "StalledJobs");
    }
}
