//! Render round trip: arbitrary label values, including reserved ones and
//! odd caps, through the layer; the exposition must parse with a strict
//! parser, hold no two samples with the same labels, and sum to exactly the
//! events logged.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use openmetrics_parser::{PrometheusValue, MetricNumber};
use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::prelude::*;

#[derive(Arbitrary, Debug)]
struct Input {
    max_events: u8,
    max_services: u8,
    max_len: u8,
    events: Vec<(bool, Option<String>, Option<String>)>,
}

fn log(error: bool, service: Option<&str>, event: Option<&str>) {
    match (service, event, error) {
        (Some(s), Some(e), true) => tracing::error!(service = s, event = e, "x"),
        (Some(s), Some(e), false) => tracing::info!(service = s, event = e, "x"),
        (None, Some(e), true) => tracing::error!(event = e, "x"),
        (None, Some(e), false) => tracing::info!(event = e, "x"),
        (Some(s), None, _) => tracing::warn!(service = s, "x"),
        (None, None, _) => tracing::warn!("x"),
    }
}

/// openmetrics-parser's grammar ends a label value at a raw carriage return,
/// which the text format allows (only `\\`, `"` and line feed are escaped;
/// Prometheus' lexer and the Python reference parser accept it, see
/// tests/reference/bad_input.rs). Values here drop it, so the strict parser can judge
/// everything else.
fn without_cr(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|v| v.replace('\r', ""))
}

fuzz_target!(|input: Input| {
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(1 + usize::from(input.max_events % 8))
        .max_services(1 + usize::from(input.max_services % 8))
        .max_label_len(1 + usize::from(input.max_len % 64))
        .build()
        .expect("valid settings");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for (error, service, event) in &input.events {
            let (service, event) = (without_cr(service), without_cr(event));
            log(*error, service.as_deref(), event.as_deref());
        }
    });
    // The first render shows new series at 0 (the first-sample rule).
    let _ = handle.render();
    let text = handle.render();
    let parsed = openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("render does not parse: {e:?}\n{text}"));
    let mut sum = 0u64;
    for (name, family) in &parsed.families {
        let mut seen = HashSet::new();
        for sample in family.iter_samples() {
            let labels: Vec<(String, String)> = sample
                .get_labelset()
                .expect("labels match the family's names")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(seen.insert(labels.clone()), "duplicate series {name} {labels:?}");
            if name == "robustmq_log_events_total" {
                if let PrometheusValue::Counter(c) = &sample.value {
                    sum += match c.value {
                        MetricNumber::Int(i) => i as u64,
                        MetricNumber::Float(f) => f as u64,
                    };
                }
            }
        }
    }
    assert_eq!(sum, input.events.len() as u64, "{text}");
    assert_eq!(handle.total_events(), input.events.len() as u64);
});
