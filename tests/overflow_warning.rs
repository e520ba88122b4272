//! The guard warns once per service, through the global subscriber, without
//! counting its own warning. Its own binary: it installs a global default.

use std::sync::{Arc, Mutex};

use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.0
            .lock()
            .unwrap()
            .push(event.metadata().target().to_owned());
    }
}

#[test]
fn one_warning_per_service_and_it_is_not_counted() {
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(2)
        .build()
        .unwrap();
    let seen = Seen::default();
    tracing_subscriber::registry()
        .with(layer)
        .with(seen.clone())
        .init();
    for i in 0..20 {
        let e = format!("e{i}");
        tracing::info!(event = e.as_str(), "x");
        tracing::info!(service = "other", event = e.as_str(), "x");
    }
    let warnings = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.starts_with("robustmq_log_metrics"))
        .count();
    assert_eq!(warnings, 2, "one warning for `robustmq`, one for `other`");
    assert_eq!(handle.total_events(), 40);
}
