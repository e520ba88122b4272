//! The cardinality guard: bounded series, exact totals, the overflow counter.
//! A binary of its own in the `reference` tier (tests/reference/main.rs):
//! its assertions cover every series of the process.

#[path = "../support/mod.rs"]
mod support;

use robustmq_log_metrics::LogMetrics;
use support::{event_counts, nonzero_counts, parse, settled};
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::prelude::*;

#[test]
fn new_event_names_past_the_cap_go_to_overflow_and_no_count_is_lost() {
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(3)
        .service_for_target("other", "other-svc")
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let per_thread = 500u64;
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let d = dispatch.clone();
            std::thread::spawn(move || {
                dispatcher::with_default(&d, || {
                    for i in 0..per_thread {
                        // 10 distinct names per thread, 20 in all.
                        let name = format!("ev_{t}_{}", i % 10);
                        tracing::warn!(event = name.as_str(), "x");
                        tracing::error!(target: "other", event = "fine", "other service is not affected");
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let samples = parse(&settled(&handle));
    let counts = event_counts(&samples);
    let ours: Vec<_> = counts
        .iter()
        .filter(|((l, s, _), _)| l == "warn" && s == "robustmq")
        .collect();
    // 3 admitted names plus the overflow series.
    assert_eq!(ours.len(), 4, "{ours:?}");
    let total: u64 = ours.iter().map(|(_, v)| **v).sum();
    assert_eq!(total, 2 * per_thread);
    let overflowed = counts[&("warn".into(), "robustmq".into(), "overflow".into())];
    assert!(overflowed >= 2 * per_thread - 3 * (per_thread / 10 + 1));
    let overflow_total = samples
        .iter()
        .find(|s| {
            s.name == "robustmq_log_label_overflow_total" && s.labels["service"] == "robustmq"
        })
        .unwrap()
        .value as u64;
    assert_eq!(overflow_total, overflowed);
    assert_eq!(
        counts[&("error".into(), "other-svc".into(), "fine".into())],
        2 * per_thread
    );
    let other_overflow = samples
        .iter()
        .find(|s| {
            s.name == "robustmq_log_label_overflow_total" && s.labels["service"] == "other-svc"
        })
        .unwrap();
    assert_eq!(other_overflow.value, 0.0);
    assert_eq!(handle.total_events(), 4 * per_thread);
}

#[test]
fn service_names_past_the_cap_go_to_the_overflow_service() {
    let (layer, handle) = LogMetrics::builder()
        .default_service("main")
        .max_services(3)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..50 {
            let svc = format!("svc{i}");
            tracing::info!(service = svc.as_str(), event = "e", "x");
        }
    });
    let counts = nonzero_counts(&handle);
    // "main" takes one of the three slots.
    let services: Vec<_> = counts.keys().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(services, ["overflow", "svc0", "svc1"]);
    assert_eq!(counts.values().sum::<u64>(), 50);
}

#[test]
fn a_single_thread_sees_the_same_cap() {
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(1)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(event = "first", "x");
        tracing::info!(event = "second", "x");
        tracing::error!(event = "second", "x");
        tracing::info!(event = "first", "x");
    });
    assert_eq!(handle.count("info", "robustmq", "first"), Some(2));
    assert_eq!(handle.count("info", "robustmq", "overflow"), Some(1));
    assert_eq!(handle.count("error", "robustmq", "overflow"), Some(1));
    assert_eq!(handle.count("info", "robustmq", "second"), None);
}
