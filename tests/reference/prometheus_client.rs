//! Feature `prometheus-client`: the counts in a broker's existing registry,
//! encoded as OpenMetrics and read back by the reference OpenMetrics parser.
#![cfg(feature = "prometheus-client")]

use crate::support;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::prelude::*;

#[test]
fn collector_encodes_valid_openmetrics_with_one_eof_and_exact_values() {
    let (layer, handle) = LogMetrics::builder()
        .global_label("node_id", "2")
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            tracing::error!(event = "storage_error", "x");
        }
        tracing::warn!(event = "quote\"back\\slash\nnewline", "x");
    });

    // The broker's own registry with its own metric next to ours.
    let mut registry = Registry::default();
    let own = Counter::<u64>::default();
    own.inc();
    registry.register("mqtt_connections", "Connections accepted", own);
    registry.register_collector(Box::new(handle.collector()));

    let mut first = String::new();
    encode(&mut first, &registry).unwrap();
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert_eq!(text.matches("# EOF").count(), 1);
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(
        text.matches("# TYPE robustmq_log_events counter").count(),
        1,
        "{text}"
    );

    let samples =
        support::try_parse(&text, "openmetrics").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let get = |event: &str| {
        samples
            .iter()
            .find(|s| {
                s.name == "robustmq_log_events_total"
                    && s.labels.get("event").map(String::as_str) == Some(event)
            })
            .unwrap_or_else(|| panic!("no sample for {event:?} in\n{text}"))
    };
    let storage = get("storage_error");
    assert_eq!(storage.value, 3.0);
    assert_eq!(storage.family, "robustmq_log_events");
    assert_eq!(storage.labels["node_id"], "2");
    assert_eq!(storage.labels["level"], "error");
    assert_eq!(get("quote\"back\\slash\nnewline").value, 1.0);
    assert!(samples.iter().any(|s| s.name == "mqtt_connections_total"));
    assert!(samples
        .iter()
        .any(|s| s.name == "robustmq_log_label_overflow_total"));
    // The first encode showed the new series at 0, as the text endpoint does.
    let first = support::try_parse(&first, "openmetrics").unwrap();
    assert!(first
        .iter()
        .filter(|s| s.name == "robustmq_log_events_total")
        .all(|s| s.value == 0.0));
}
