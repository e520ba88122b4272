//! `unstructured = "callsite"`: an event without an event field is labelled
//! by its call site (`module::path:line`), under the same caps, and never in
//! a second series with the same labels.
//! A binary of its own in the `reference` tier (tests/reference/main.rs):
//! its assertions cover every series of the process.

#[path = "../support/mod.rs"]
mod support;

use robustmq_log_metrics::{LogMetrics, UnstructuredEvents};
use support::{event_counts, parse, settled};
use tracing_subscriber::prelude::*;

#[test]
fn unstructured_events_are_labelled_by_module_path_and_line() {
    let (layer, handle) = LogMetrics::builder()
        .unstructured(UnstructuredEvents::Callsite)
        .max_events_per_service(3)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut lines = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..2 {
            tracing::error!("first call site");
            lines.push(line!() - 1);
        }
        tracing::error!(event = "named", "an event field wins");
        let here = line!() + 1;
        tracing::error!("second call site");
        // A logged value equal to a call-site label is the same series.
        let same = format!("callsite_events:{here}");
        tracing::error!(event = same.as_str(), "x");
        // The cap (3: two call sites and "named") holds for call sites too.
        tracing::error!("third call site, over the cap");
    });
    let counts = event_counts(&parse(&settled(&handle)));
    let count = |e: &str| {
        counts
            .get(&("error".into(), "robustmq".into(), e.into()))
            .copied()
    };
    assert_eq!(count(&format!("callsite_events:{}", lines[0])), Some(2));
    assert_eq!(count("named"), Some(1));
    let second = counts
        .iter()
        .filter(|((_, _, e), v)| e.starts_with("callsite_events:") && **v == 2)
        .count();
    assert_eq!(
        second, 2,
        "first call site twice, second call site + its twin: {counts:?}"
    );
    assert_eq!(count("overflow"), Some(1));
    assert_eq!(count("unstructured"), None);
    assert_eq!(handle.total_events(), 6);
}
