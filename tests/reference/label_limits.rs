//! The caps of the cardinality guard are exported as gauges,
//! `robustmq_log_label_limit{kind}` with the global labels, so alerts compare
//! against the broker's real settings instead of a copy in the mixin.

use crate::support;

use robustmq_log_metrics::LogMetrics;

/// The whole scrape of a layer that counted nothing: the text format is
/// compared as one string, so a changed help, type, label order or lost
/// newline fails here.
#[test]
fn the_text_format_renders_the_caps_as_gauges_exactly() {
    let (_layer, handle) = LogMetrics::builder()
        .global_label("node_id", "2")
        .default_service("mqtt-broker")
        .max_events_per_service(3)
        .max_services(5)
        .build()
        .unwrap();
    let text = support::settled(&handle);
    let expected = concat!(
        "# HELP robustmq_log_events_total Tracing events counted in-process, by level, service and event name.\n",
        "# TYPE robustmq_log_events_total counter\n",
        "# HELP robustmq_log_label_overflow_total Events whose event name was replaced by \"overflow\" because the service reached max_events_per_service.\n",
        "# TYPE robustmq_log_label_overflow_total counter\n",
        "robustmq_log_label_overflow_total{node_id=\"2\",service=\"mqtt-broker\"} 0\n",
        "# HELP robustmq_log_label_limit The caps of the cardinality guard: kind=\"events_per_service\" is max_events_per_service (reserved event values not counted), kind=\"services\" is max_services (the overflow service not counted).\n",
        "# TYPE robustmq_log_label_limit gauge\n",
        "robustmq_log_label_limit{node_id=\"2\",kind=\"events_per_service\"} 3\n",
        "robustmq_log_label_limit{node_id=\"2\",kind=\"services\"} 5\n",
    );
    assert_eq!(text, expected);
    // And the reference parser reads them as gauges.
    let samples = support::parse(&text);
    let limit = |kind: &str| {
        samples
            .iter()
            .find(|s| s.name == "robustmq_log_label_limit" && s.labels["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} limit in\n{text}"))
    };
    assert_eq!(limit("events_per_service").value, 3.0);
    assert_eq!(limit("events_per_service").kind, "gauge");
    assert_eq!(limit("services").value, 5.0);
    assert_eq!(limit("services").labels["node_id"], "2");
}

#[test]
fn the_defaults_are_exported_too() {
    let (_layer, handle) = LogMetrics::builder().build().unwrap();
    let samples = support::parse(&support::settled(&handle));
    let limits: Vec<(String, f64)> = samples
        .iter()
        .filter(|s| s.name == "robustmq_log_label_limit")
        .map(|s| (s.labels["kind"].clone(), s.value))
        .collect();
    assert_eq!(
        limits,
        [
            ("events_per_service".to_owned(), 256.0),
            ("services".to_owned(), 64.0)
        ]
    );
}

#[cfg(feature = "prometheus-client")]
#[test]
fn the_collector_encodes_the_caps_as_gauges() {
    let (_layer, handle) = LogMetrics::builder()
        .global_label("node_id", "7")
        .max_events_per_service(10)
        .max_services(4)
        .build()
        .unwrap();
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(handle.collector()));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("# TYPE robustmq_log_label_limit gauge\n"),
        "{text}"
    );
    let samples =
        support::try_parse(&text, "openmetrics").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut limits: Vec<(String, String, f64)> = samples
        .iter()
        .filter(|s| s.name == "robustmq_log_label_limit")
        .map(|s| {
            (
                s.labels["kind"].clone(),
                s.labels["node_id"].clone(),
                s.value,
            )
        })
        .collect();
    limits.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        limits,
        [
            ("events_per_service".to_owned(), "7".to_owned(), 10.0),
            ("services".to_owned(), "7".to_owned(), 4.0)
        ]
    );
}
