//! Hostile and odd values: arbitrary Unicode and control characters, escapes,
//! empty and 1 MB strings, non-string types. Never a panic, never a lost
//! count, exact round trip through the reference parser below the length cap.

use crate::support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use robustmq_log_metrics::LogMetrics;
use support::{event_counts, nonzero_counts, parse, settled};
use tracing_subscriber::prelude::*;

const CAP: usize = 64;

fn cut(s: &str) -> &str {
    let mut end = s.len().min(CAP);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Strings rich in what breaks exposition formats.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\\\\"\n\r\t{}=,# a-zé日🚀\u{0}\u{7f}\u{2028}]{0,12}",
        "(\\\\\\\\|\\\\\"|\\\\n|\")+",
        ".{60,80}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_values_round_trip_exactly_and_no_count_is_lost(
        events in prop::collection::vec(nasty(), 1..12),
        services in prop::collection::vec(nasty(), 1..4),
    ) {
        let (layer, handle) = LogMetrics::builder().default_service("def").max_label_len(CAP).build().unwrap();
        let mut want: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for (i, e) in events.iter().enumerate() {
                let s = &services[i % services.len()];
                tracing::error!(event = e.as_str(), service = s.as_str(), "x");
                let svc = if s.is_empty() { "def" } else { cut(s) };
                *want.entry(("error".into(), svc.to_owned(), cut(e).to_owned())).or_default() += 1;
            }
        });
        let got = nonzero_counts(&handle);
        prop_assert_eq!(got, want);
        prop_assert_eq!(handle.total_events(), events.len() as u64);
    }
}

#[test]
fn one_megabyte_values_are_cut_and_counted() {
    let huge = "é".repeat(512 * 1024); // 1 MiB of 2-byte chars
    let (layer, handle) = LogMetrics::builder().max_label_len(CAP).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::warn!(event = huge.as_str(), service = huge.as_str(), "x");
        tracing::warn!(event = %huge, "display");
        tracing::warn!(event = ?huge, "debug, with quotes");
    });
    let counts = event_counts(&parse(&settled(&handle)));
    let cut_value = "é".repeat(CAP / 2);
    assert_eq!(
        counts.get(&("warn".into(), cut_value.clone(), cut_value.clone())),
        Some(&1)
    );
    assert_eq!(
        counts.get(&("warn".into(), "robustmq".into(), cut_value.clone())),
        Some(&1)
    );
    let debug_cut = format!("\"{}", "é".repeat((CAP - 1) / 2));
    assert_eq!(
        counts.get(&("warn".into(), "robustmq".into(), debug_cut)),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(handle.total_events(), 3);
}

#[derive(Debug)]
struct Panicky;

impl std::fmt::Display for Panicky {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A Display that fails: the layer must neither panic nor lose the count.
        let _ = f;
        Err(std::fmt::Error)
    }
}

#[test]
fn failing_display_and_odd_types_still_count() {
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(event = %Panicky, "display returns an error");
        tracing::info!(event = f64::NAN, "nan");
        tracing::info!(event = i64::MIN, "min");
        tracing::info!(event = u128::MAX, "u128");
        tracing::info!(event = ?'c', "char");
        tracing::info!(event = tracing::field::Empty, "empty");
        let err: &(dyn std::error::Error + 'static) = &std::fmt::Error;
        tracing::info!(event = err, "an error value");
    });
    assert_eq!(handle.total_events(), 7);
    let counts = event_counts(&parse(&settled(&handle)));
    for e in [
        "NaN",
        "-9223372036854775808",
        "340282366920938463463374607431768211455",
        "'c'",
        "unstructured",
    ] {
        assert_eq!(
            counts.get(&("info".into(), "robustmq".into(), e.into())),
            Some(&1),
            "{e}: {counts:?}"
        );
    }
}
