//! Registers `handle.collector()` next to an application counter in a
//! registry of whichever prometheus-client release Cargo.lock holds, logs
//! label values that need escaping, and prints the second encode (the first
//! shows new series at 0).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::prelude::*;

fn main() {
    let (layer, handle) = LogMetrics::builder()
        .global_label("node_id", "quote\"back\\slash\nnewline")
        .build()
        .expect("layer");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(event = "quote\"back\\slash\nnewline", "x");
        tracing::warn!(event = "a\\\"b", "already-escaped-looking value");
        tracing::warn!(event = "plain", "x");
        tracing::warn!(event = "plain", "x");
    });
    let mut registry = Registry::default();
    let own = Counter::<u64>::default();
    own.inc();
    registry.register("app_requests", "Requests served", own);
    registry.register_collector(Box::new(handle.collector()));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("first encode");
    text.clear();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    print!("{text}");
}
