//! Label semantics: service resolution order, the unstructured fallback,
//! exact values through a real parser, truncation, non-string values.

use crate::support;

use robustmq_log_metrics::LogMetrics;
use support::{nonzero_counts, parse, settled};
use tracing_subscriber::prelude::*;

fn counts_after(
    builder: robustmq_log_metrics::LogMetricsBuilder,
    log: impl FnOnce(),
) -> std::collections::BTreeMap<(String, String, String), u64> {
    let (layer, handle) = builder.build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), log);
    nonzero_counts(&handle)
}

fn k(l: &str, s: &str, e: &str) -> (String, String, String) {
    (l.into(), s.into(), e.into())
}

#[test]
fn service_field_beats_longest_target_prefix_beats_default() {
    let counts = counts_after(
        LogMetrics::builder()
            .default_service("fallback")
            .service_for_target("a", "short")
            .service_for_target("a::b", "long")
            .service_for_target("a::b::c::d", "unused"),
        || {
            tracing::info!(target: "a::b::c", event = "e1", "longest matching prefix wins");
            tracing::info!(target: "a::x", event = "e1", "only the short prefix matches");
            tracing::info!(target: "zzz", event = "e1", "no prefix: default");
            tracing::info!(target: "a::b::c", service = "own", event = "e1", "own field wins");
            tracing::info!(target: "a::b::c", service = "", event = "e1", "empty service field falls back");
        },
    );
    let want = [
        (k("info", "long", "e1"), 2),
        (k("info", "short", "e1"), 1),
        (k("info", "fallback", "e1"), 1),
        (k("info", "own", "e1"), 1),
    ];
    assert_eq!(counts, want.into_iter().collect());
}

#[test]
fn events_without_the_event_field_are_unstructured_and_levels_are_lowercase() {
    let counts = counts_after(LogMetrics::builder().default_service("svc"), || {
        tracing::error!("format string {}", 1);
        tracing::warn!(other = 3, "fields but no event");
        tracing::info!(event = "structured", "x");
        tracing::debug!(event = "structured", "x");
        tracing::trace!(event = "structured", "x");
        tracing::info!(event = tracing::field::Empty, "declared but never recorded");
    });
    let want = [
        (k("error", "svc", "unstructured"), 1),
        (k("warn", "svc", "unstructured"), 1),
        (k("info", "svc", "structured"), 1),
        (k("debug", "svc", "structured"), 1),
        (k("trace", "svc", "structured"), 1),
        (k("info", "svc", "unstructured"), 1),
    ];
    assert_eq!(counts, want.into_iter().collect());
}

#[test]
fn custom_event_field_name() {
    let counts = counts_after(LogMetrics::builder().event_field("action"), || {
        tracing::info!(action = "user_login", event = "ignored", "x");
    });
    assert_eq!(
        counts,
        [(k("info", "robustmq", "user_login"), 1)]
            .into_iter()
            .collect()
    );
}

#[test]
fn odd_label_values_round_trip_exactly_through_the_reference_parser() {
    let long = "x".repeat(500);
    let values: Vec<String> = vec![
        "quote\"in".into(),
        "back\\slash".into(),
        "double\\\\backslash".into(),
        "escaped\\\"quote".into(),
        "new\nline".into(),
        "trailing\\".into(),
        "literal \\n not a newline".into(),
        "tab\tand\rcarriage".into(),
        "ünïcødé 日本語 🚀".into(),
        "{braces}=,\"".into(),
        String::new(),
        long.clone(),
    ];
    let (layer, handle) = LogMetrics::builder().max_label_len(128).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for v in &values {
            tracing::warn!(event = v.as_str(), "odd value");
        }
    });
    let counts = nonzero_counts(&handle);
    for v in &values {
        let want = if v.len() > 128 {
            &long[..128]
        } else {
            v.as_str()
        };
        assert_eq!(
            counts.get(&k("warn", "robustmq", want)),
            Some(&1),
            "value {v:?} did not round-trip; got {:?}",
            counts.keys().collect::<Vec<_>>()
        );
    }
    assert_eq!(counts.len(), values.len());
}

#[test]
fn over_long_values_are_cut_at_a_char_boundary() {
    let (layer, handle) = LogMetrics::builder().max_label_len(10).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        // 9 ASCII bytes then a 3-byte char: the cut must drop the whole char.
        tracing::info!(event = "123456789日本", "x");
        tracing::info!(event = "123456789", service = "ssssssssss-too-long", "x");
    });
    let counts = nonzero_counts(&handle);
    assert_eq!(counts.get(&k("info", "robustmq", "123456789")), Some(&1));
    assert_eq!(counts.get(&k("info", "ssssssssss", "123456789")), Some(&1));
}

#[derive(Debug)]
struct Code(u32);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code_{}", self.0)
    }
}

#[test]
fn non_string_values_become_their_text() {
    let counts = counts_after(LogMetrics::builder(), || {
        tracing::info!(event = 42u64, "u64");
        tracing::info!(event = -7i64, "i64");
        tracing::info!(event = true, "bool");
        tracing::info!(event = 1.5f64, "f64");
        tracing::info!(event = %Code(3), "display");
        tracing::info!(event = ?Code(4), "debug");
        tracing::info!(event = 9u64, service = 5u64, "numeric service");
    });
    for e in ["42", "-7", "true", "1.5", "code_3", "Code(4)"] {
        assert_eq!(
            counts.get(&k("info", "robustmq", e)),
            Some(&1),
            "{e}: {counts:?}"
        );
    }
    assert_eq!(counts.get(&k("info", "5", "9")), Some(&1));
}

#[test]
fn events_inside_spans_are_counted_once() {
    let counts = counts_after(LogMetrics::builder(), || {
        let outer = tracing::info_span!("outer", event = "span_field_is_not_an_event");
        let _o = outer.enter();
        let inner = tracing::info_span!("inner");
        let _i = inner.enter();
        tracing::error!(event = "in_span", "x");
    });
    assert_eq!(
        counts,
        [(k("error", "robustmq", "in_span"), 1)]
            .into_iter()
            .collect()
    );
}

#[test]
fn global_labels_are_on_every_series_and_escaped() {
    let (layer, handle) = LogMetrics::builder()
        .global_label("node_id", "n\"1\\")
        .global_label("cluster", "east")
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(event = "a", "x");
    });
    let samples = parse(&settled(&handle));
    assert!(samples.len() >= 2);
    for s in samples {
        assert_eq!(s.labels["node_id"], "n\"1\\");
        assert_eq!(s.labels["cluster"], "east");
    }
}

#[test]
fn disabled_layer_counts_nothing() {
    let counts = counts_after(LogMetrics::builder().enabled(false), || {
        tracing::error!(event = "x", "x");
    });
    assert!(counts.is_empty());
}

#[test]
fn metrics_exporter_prometheus_escaping_is_lossy_which_is_why_we_render_ourselves() {
    // A canary for the claim in src/exposition/text.rs's header: the exporter
    // treats `\\` and `\"` in a label value as already escaped, so a parser
    // cannot give the value back.
    // If this starts failing, the exporter was fixed upstream.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("canary_total", "event" => "a\\\\b").increment(1);
    });
    let samples = parse(&handle.render());
    let got = &samples
        .iter()
        .find(|s| s.name == "canary_total")
        .unwrap()
        .labels["event"];
    // Logged: a, two backslashes, b. Exposed unescaped, parsed back: one backslash.
    assert_eq!(
        got, "a\\b",
        "the exporter's escaping changed: if it is now exact, revisit the claim in src/exposition/text.rs"
    );
}

#[test]
fn one_callsite_with_changing_values_counts_each_exactly() {
    // Exercises the per-callsite memo: repeats, alternations, partial matches
    // (same event, other service and the reverse), and empty services.
    let (layer, handle) = LogMetrics::builder()
        .default_service("def")
        .build()
        .unwrap();
    let plan: Vec<(&str, &str)> = vec![
        ("a", ""),
        ("a", ""),
        ("b", ""),
        ("a", "s1"),
        ("a", "s1"),
        ("a", "s2"),
        ("b", "s2"),
        ("b", "s2"),
        ("a", ""),
        ("b", "s1"),
        ("a", "s1"),
    ];
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            for (event, service) in &plan {
                tracing::info!(event = *event, service = *service, "x");
            }
        }
    });
    let mut want = std::collections::BTreeMap::new();
    for (event, service) in &plan {
        let service = if service.is_empty() { "def" } else { service };
        *want.entry(k("info", service, event)).or_insert(0) += 3;
    }
    assert_eq!(nonzero_counts(&handle), want);
}
