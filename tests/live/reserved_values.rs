//! Logged values equal to reserved ones (`unstructured`, `overflow`) never
//! make two samples with the same labels, and no count is lost: checked with
//! the reference parser plus a duplicate check over arbitrary values, and
//! with a real Prometheus, which silently drops the second of two equal series.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use robustmq_log_metrics::{LogMetrics, LogMetricsHandle};
use support::{parse, settled, wait_for, Prometheus, Sample};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// Every (name, labels) must be unique: the check Prometheus does not make.
fn assert_no_duplicate_series(samples: &[Sample]) {
    let mut seen = BTreeMap::new();
    for s in samples {
        let key = (s.name.clone(), s.labels.clone());
        if let Some(prev) = seen.insert(key.clone(), s.value) {
            panic!("duplicate series {key:?}: {prev} and {}", s.value);
        }
    }
}

fn events_sum(samples: &[Sample]) -> u64 {
    samples
        .iter()
        .filter(|s| s.name == "robustmq_log_events_total")
        .map(|s| s.value as u64)
        .sum()
}

/// Logs each (level, service, event) once, the way real call sites do:
/// with or without the fields.
fn log_all(d: &Dispatch, events: &[(u8, Option<String>, Option<String>)]) {
    tracing::dispatcher::with_default(d, || {
        for (level, service, event) in events {
            match (service, event, level % 2) {
                (Some(s), Some(e), 0) => {
                    tracing::error!(service = s.as_str(), event = e.as_str(), "x")
                }
                (Some(s), Some(e), _) => {
                    tracing::info!(service = s.as_str(), event = e.as_str(), "x")
                }
                (None, Some(e), 0) => tracing::error!(event = e.as_str(), "x"),
                (None, Some(e), _) => tracing::info!(event = e.as_str(), "x"),
                (Some(s), None, _) => tracing::warn!(service = s.as_str(), "x"),
                (None, None, 0) => tracing::error!("no fields"),
                (None, None, _) => tracing::info!("no fields"),
            }
        }
    });
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("unstructured".to_owned()),
        Just("overflow".to_owned()),
        Just("robustmq".to_owned()),
        Just(String::new()),
        "[a-c]{1,2}",
        "\\PC{0,6}",
        "[\"\\\\\n]{1,3}",
    ]
}

fn built(max_events: usize, max_services: usize) -> (Dispatch, LogMetricsHandle) {
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(max_events)
        .max_services(max_services)
        .build()
        .unwrap();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_values_never_duplicate_a_series_or_lose_a_count(
        events in proptest::collection::vec(
            (any::<u8>(), proptest::option::of(value()), proptest::option::of(value())),
            1..40,
        ),
        max_events in 1usize..4,
        max_services in 1usize..4,
    ) {
        let (d, h) = built(max_events, max_services);
        log_all(&d, &events);
        let samples = parse(&settled(&h));
        assert_no_duplicate_series(&samples);
        // The fixed-field callsite of `log_all` is pre-registered at 0 by
        // every instance, so the sum is exactly the events logged here.
        prop_assert_eq!(events_sum(&samples), events.len() as u64);
        prop_assert_eq!(h.total_events(), events.len() as u64);
    }
}

#[test]
fn a_logged_reserved_value_shares_the_reserved_series() {
    let (d, h) = built(1, 2);
    let events = [
        (1, None, None),
        (1, None, Some("unstructured".to_owned())),
        (0, None, Some("first".to_owned())),
        (0, None, Some("second".to_owned())),
        (0, None, Some("overflow".to_owned())),
        (0, Some("overflow".to_owned()), Some("x".to_owned())),
        (0, Some("a".to_owned()), Some("x".to_owned())),
        (0, Some("b".to_owned()), Some("x".to_owned())),
    ];
    log_all(&d, &events);
    let samples = parse(&settled(&h));
    assert_no_duplicate_series(&samples);
    let counts = support::event_counts(&samples);
    let count = |l: &str, s: &str, e: &str| counts.get(&(l.into(), s.into(), e.into())).copied();
    // An event without an event field and one with `event = "unstructured"`,
    // both at info, are one series.
    assert_eq!(count("info", "robustmq", "unstructured"), Some(2));
    // Cap 1: "first" is kept, "second" and the logged "overflow" share the overflow series.
    assert_eq!(count("error", "robustmq", "first"), Some(1));
    assert_eq!(count("error", "robustmq", "overflow"), Some(2));
    // Only "second" was a name dropped by the cap.
    let dropped = samples
        .iter()
        .find(|s| {
            s.name == "robustmq_log_label_overflow_total" && s.labels["service"] == "robustmq"
        })
        .map(|s| s.value);
    assert_eq!(dropped, Some(1.0));
    // Services: the default one and "a" fill the cap of 2; "overflow" logged and "b" share one.
    assert_eq!(count("error", "a", "x"), Some(1));
    assert_eq!(count("error", "overflow", "x"), Some(2));
    assert_eq!(events_sum(&samples), events.len() as u64);
}

#[test]
fn prometheus_ingests_every_sample_of_an_exposition_with_reserved_values() {
    let (d, h) = built(2, 2);
    let mut events = Vec::new();
    for v in [
        "unstructured",
        "overflow",
        "a",
        "b",
        "c",
        "overflow",
        "unstructured",
    ] {
        for s in [
            None,
            Some("overflow"),
            Some("s1"),
            Some("s2"),
            Some("robustmq"),
        ] {
            events.push((0u8, s.map(str::to_owned), Some(v.to_owned())));
            events.push((1u8, s.map(str::to_owned), None));
        }
    }
    log_all(&d, &events);
    let server = h.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();
    let samples = parse(&settled(&h));
    assert_no_duplicate_series(&samples);
    let families = [
        "robustmq_log_events_total",
        "robustmq_log_label_overflow_total",
        "robustmq_log_label_limit",
    ];
    let exposed = samples
        .iter()
        .filter(|s| families.contains(&s.name.as_str()))
        .count();

    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: broker\n    static_configs:\n      - targets: ['{}']\n",
        server.local_addr()
    );
    let prom = Prometheus::start(&config, &[]);
    let stored = wait_for("every log series stored", Duration::from_secs(30), || {
        let v = prom.vector("count({__name__=~\"robustmq_log_.*\"})");
        v.first()
            .map(|(_, n)| *n as usize)
            .filter(|n| *n >= exposed)
    });
    assert_eq!(
        stored, exposed,
        "prometheus stored {stored} of {exposed} series"
    );
    let sum = wait_for("the stored sum", Duration::from_secs(30), || {
        let v = prom.vector("sum(robustmq_log_events_total)");
        v.first()
            .map(|(_, n)| *n as u64)
            .filter(|n| *n == events.len() as u64)
    });
    assert_eq!(sum, events.len() as u64);
    prom.stop();
    server.shutdown().unwrap();
}
