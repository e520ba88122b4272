//! The exact bytes of a small exposition, in the text format and in
//! OpenMetrics (through the `prometheus-client` collector): escaping, global
//! labels, the first-sample zero, both overflow series and the caps' gauges. A changed escape,
//! a lost newline or a reordered label fails here.
//!
//! Alone in its binary: a new `Dispatch` registers every callsite of the
//! process, so another test's event without an event field would add its
//! `unstructured` series at 0 to these exact bytes.

mod support;

use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::prelude::*;

/// One instance with a global label, a cap of one event name per service and
/// of two services, and events that need escaping, overflow and a service
/// field past the cap.
fn logged() -> robustmq_log_metrics::LogMetricsHandle {
    let (layer, handle) = LogMetrics::builder()
        .default_service("mqtt-broker")
        .global_label("node_id", "7")
        .max_events_per_service(1)
        .max_services(2)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(event = "quote\"back\\slash\nnewline", "x");
        tracing::error!(event = "quote\"back\\slash\nnewline", "x");
        tracing::warn!(event = "second_name", "over the per-service cap");
        tracing::info!(service = "meta-service", event = "raft_ready", "x");
        tracing::info!(
            service = "third-service",
            event = "hello",
            "over the service cap"
        );
    });
    handle
}

/// The first scrape: every series at 0 (the first-sample policy).
const TEXT_FIRST: &str = r#"# HELP robustmq_log_events_total Tracing events counted in-process, by level, service and event name.
# TYPE robustmq_log_events_total counter
robustmq_log_events_total{node_id="7",level="error",service="mqtt-broker",event="quote\"back\\slash\nnewline"} 0
robustmq_log_events_total{node_id="7",level="warn",service="mqtt-broker",event="overflow"} 0
robustmq_log_events_total{node_id="7",level="info",service="meta-service",event="raft_ready"} 0
robustmq_log_events_total{node_id="7",level="info",service="overflow",event="hello"} 0
# HELP robustmq_log_label_overflow_total Events whose event name was replaced by "overflow" because the service reached max_events_per_service.
# TYPE robustmq_log_label_overflow_total counter
robustmq_log_label_overflow_total{node_id="7",service="mqtt-broker"} 0
robustmq_log_label_overflow_total{node_id="7",service="meta-service"} 0
robustmq_log_label_overflow_total{node_id="7",service="overflow"} 0
# HELP robustmq_log_label_limit The caps of the cardinality guard: kind="events_per_service" is max_events_per_service (reserved event values not counted), kind="services" is max_services (the overflow service not counted).
# TYPE robustmq_log_label_limit gauge
robustmq_log_label_limit{node_id="7",kind="events_per_service"} 1
robustmq_log_label_limit{node_id="7",kind="services"} 2
"#;

/// The next scrape: the counts.
const TEXT: &str = r#"# HELP robustmq_log_events_total Tracing events counted in-process, by level, service and event name.
# TYPE robustmq_log_events_total counter
robustmq_log_events_total{node_id="7",level="error",service="mqtt-broker",event="quote\"back\\slash\nnewline"} 2
robustmq_log_events_total{node_id="7",level="warn",service="mqtt-broker",event="overflow"} 1
robustmq_log_events_total{node_id="7",level="info",service="meta-service",event="raft_ready"} 1
robustmq_log_events_total{node_id="7",level="info",service="overflow",event="hello"} 1
# HELP robustmq_log_label_overflow_total Events whose event name was replaced by "overflow" because the service reached max_events_per_service.
# TYPE robustmq_log_label_overflow_total counter
robustmq_log_label_overflow_total{node_id="7",service="mqtt-broker"} 1
robustmq_log_label_overflow_total{node_id="7",service="meta-service"} 0
robustmq_log_label_overflow_total{node_id="7",service="overflow"} 0
# HELP robustmq_log_label_limit The caps of the cardinality guard: kind="events_per_service" is max_events_per_service (reserved event values not counted), kind="services" is max_services (the overflow service not counted).
# TYPE robustmq_log_label_limit gauge
robustmq_log_label_limit{node_id="7",kind="events_per_service"} 1
robustmq_log_label_limit{node_id="7",kind="services"} 2
"#;

#[test]
fn the_text_format_is_exactly_this() {
    let handle = logged();
    assert_eq!(handle.render(), TEXT_FIRST);
    assert_eq!(handle.render(), TEXT);
}

#[cfg(feature = "prometheus-client")]
#[test]
fn openmetrics_through_the_collector_is_exactly_this() {
    let handle = logged();
    let (first, text) = support::collector_encodings(&handle);
    assert_eq!(first, OPENMETRICS_FIRST);
    assert_eq!(text, OPENMETRICS);
}

/// OpenMetrics names the family without `_total`; the samples keep it.
#[cfg(feature = "prometheus-client")]
const OPENMETRICS_FIRST: &str = r#"# HELP robustmq_log_events Tracing events counted in-process, by level, service and event name.
# TYPE robustmq_log_events counter
robustmq_log_events_total{node_id="7",level="error",service="mqtt-broker",event="quote\"back\\slash\nnewline"} 0
robustmq_log_events_total{node_id="7",level="warn",service="mqtt-broker",event="overflow"} 0
robustmq_log_events_total{node_id="7",level="info",service="meta-service",event="raft_ready"} 0
robustmq_log_events_total{node_id="7",level="info",service="overflow",event="hello"} 0
# HELP robustmq_log_label_overflow Events whose event name was replaced by "overflow" because the service reached max_events_per_service.
# TYPE robustmq_log_label_overflow counter
robustmq_log_label_overflow_total{node_id="7",service="mqtt-broker"} 0
robustmq_log_label_overflow_total{node_id="7",service="meta-service"} 0
robustmq_log_label_overflow_total{node_id="7",service="overflow"} 0
# HELP robustmq_log_label_limit The caps of the cardinality guard: kind="events_per_service" is max_events_per_service (reserved event values not counted), kind="services" is max_services (the overflow service not counted).
# TYPE robustmq_log_label_limit gauge
robustmq_log_label_limit{node_id="7",kind="events_per_service"} 1
robustmq_log_label_limit{node_id="7",kind="services"} 2
# EOF
"#;

#[cfg(feature = "prometheus-client")]
const OPENMETRICS: &str = r#"# HELP robustmq_log_events Tracing events counted in-process, by level, service and event name.
# TYPE robustmq_log_events counter
robustmq_log_events_total{node_id="7",level="error",service="mqtt-broker",event="quote\"back\\slash\nnewline"} 2
robustmq_log_events_total{node_id="7",level="warn",service="mqtt-broker",event="overflow"} 1
robustmq_log_events_total{node_id="7",level="info",service="meta-service",event="raft_ready"} 1
robustmq_log_events_total{node_id="7",level="info",service="overflow",event="hello"} 1
# HELP robustmq_log_label_overflow Events whose event name was replaced by "overflow" because the service reached max_events_per_service.
# TYPE robustmq_log_label_overflow counter
robustmq_log_label_overflow_total{node_id="7",service="mqtt-broker"} 1
robustmq_log_label_overflow_total{node_id="7",service="meta-service"} 0
robustmq_log_label_overflow_total{node_id="7",service="overflow"} 0
# HELP robustmq_log_label_limit The caps of the cardinality guard: kind="events_per_service" is max_events_per_service (reserved event values not counted), kind="services" is max_services (the overflow service not counted).
# TYPE robustmq_log_label_limit gauge
robustmq_log_label_limit{node_id="7",kind="events_per_service"} 1
robustmq_log_label_limit{node_id="7",kind="services"} 2
# EOF
"#;
