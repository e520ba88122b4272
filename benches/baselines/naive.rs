//! The naive baseline layer shared by the benches: what a user might write
//! first, format every field, then count with `metrics`.

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// Formats every field, then counts through the global `metrics` recorder.
pub struct NaiveLayer;
#[derive(Default)]
struct AllFields(Vec<(String, String)>);

impl Visit for AllFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NaiveLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = AllFields::default();
        event.record(&mut fields);
        let name = fields
            .0
            .iter()
            .find(|(k, _)| k == "event")
            .map_or_else(|| "unstructured".to_owned(), |(_, v)| v.clone());
        let target = event.metadata().target();
        let service = if target.starts_with("broker::mqtt_broker") {
            "mqtt-broker"
        } else {
            "robustmq"
        };
        let level = event.metadata().level().as_str().to_lowercase();
        metrics::counter!("robustmq_log_events_total", "level" => level, "service" => service, "event" => name)
            .increment(1);
    }
}
