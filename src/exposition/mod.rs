//! Exposition: what a scrape shows. One snapshot (with the first-sample
//! policy applied) and one label assembly feed both the text format and the
//! `prometheus_client` collector.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::instance::Instance;
use crate::labels::LEVEL_NAMES;
use crate::series::{Family, Series};

pub(crate) mod appenders;
#[cfg(feature = "prometheus-client")]
pub(crate) mod collector;
pub(crate) mod text;

/// Name of the main family.
pub const EVENTS_METRIC: &str = "robustmq_log_events_total";
/// Name of the cardinality-guard family.
pub const OVERFLOW_METRIC: &str = "robustmq_log_label_overflow_total";
const EVENTS_HELP: &str = "Tracing events counted in-process, by level, service and event name.";
const OVERFLOW_HELP: &str =
    "Events whose event name was replaced by \"overflow\" because the service reached max_events_per_service.";

/// Name of the gauge family that exports the label caps.
pub(crate) const LIMIT_METRIC: &str = "robustmq_log_label_limit";
const LIMIT_HELP: &str = "The caps of the cardinality guard: kind=\"events_per_service\" is max_events_per_service (reserved event values not counted), kind=\"services\" is max_services (the overflow service not counted).";

/// The two families: family, text-format name, OpenMetrics family name, help.
const FAMILIES: [(Family, &str, &str, &str); 2] = [
    (
        Family::Events,
        EVENTS_METRIC,
        "robustmq_log_events",
        EVENTS_HELP,
    ),
    (
        Family::Overflow,
        OVERFLOW_METRIC,
        "robustmq_log_label_overflow",
        OVERFLOW_HELP,
    ),
];

/// The caps as `(kind, value)`, the samples of [`LIMIT_METRIC`]. Exported so
/// that alerts compare against the broker's real setting instead of a copy.
pub(crate) fn limits(instance: &Instance) -> [(&'static str, u64); 2] {
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    [
        ("events_per_service", n(instance.max_events_per_service())),
        ("services", n(instance.max_services())),
    ]
}

/// The labels of one [`LIMIT_METRIC`] sample: global labels, then `kind`.
pub(crate) fn limit_labels<'a>(
    instance: &'a Instance,
    kind: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    global_labels_then(instance, "kind", kind)
}

/// The instance's global labels, in exposition order. Values are not escaped.
fn global_labels(instance: &Instance) -> impl Iterator<Item = (&str, &str)> {
    instance
        .global_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The labels of a family with one label of its own (the caps' `kind`, an
/// appender's `appender`): global labels, then `name="value"`.
pub(crate) fn global_labels_then<'a>(
    instance: &'a Instance,
    name: &'static str,
    value: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    global_labels(instance).chain(std::iter::once((name, value)))
}

/// One series as a scrape shows it.
pub(crate) struct Sample<'a> {
    pub(crate) series: &'a Series,
    pub(crate) value: u64,
}

/// Every series, oldest first, with the value this scrape shows.
pub(crate) fn snapshot(instance: &Instance) -> Vec<Sample<'_>> {
    let now_ms = now_ms(instance);
    instance
        .series
        .iter()
        .map(|series| Sample {
            series,
            value: if held(&series.first_shown, now_ms, instance.first_sample_hold_ms) {
                0
            } else {
                series.total()
            },
        })
        .collect()
}

/// Milliseconds since the instance's epoch: the clock of `held`.
pub(crate) fn now_ms(instance: &Instance) -> u64 {
    u64::try_from(instance.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The first-sample policy (the crate docs, "The first sample", say why): a
/// series shows 0 the first time it is scraped (and for `hold_ms` after that).
/// `first_shown` is the series' stamp (0 = never shown); true = show 0 now.
pub(crate) fn held(first_shown: &AtomicU64, now_ms: u64, hold_ms: u64) -> bool {
    let stamp = now_ms.saturating_add(1);
    // A plain load first: the read-modify-write happens once per series.
    let mut first = first_shown.load(Ordering::Relaxed);
    if first == 0 {
        match first_shown.compare_exchange(0, stamp, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(f) => first = f,
        }
    }
    stamp.saturating_sub(first) < hold_ms
}

/// The labels of `series` in exposition order: global labels, then `level`,
/// `service` and `event` where the family has them. Values are not escaped.
pub(crate) fn labels<'a>(
    instance: &'a Instance,
    series: &'a Series,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    let global = global_labels(instance);
    let level = series
        .level
        .and_then(|l| LEVEL_NAMES.get(l))
        .map(|l| ("level", *l));
    let event = series.event.as_deref().map(|e| ("event", e));
    global
        .chain(level)
        .chain(std::iter::once(("service", &*series.service)))
        .chain(event)
}
