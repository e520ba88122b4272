//! Exposition: what a scrape shows. Here the families and the first-sample
//! policy; in `walk` the one walk over the families, which applies the policy
//! and assembles each sample's labels, then hands each family to an
//! `Encoder`: the text format (`text`) or the `prometheus_client` collector
//! (`collector`). A new format is one more encoder.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::instance::Instance;
use crate::series::Family;

pub(crate) mod appenders;
#[cfg(feature = "prometheus-client")]
pub(crate) mod collector;
pub(crate) mod text;
mod walk;

/// Name of the main family.
pub const EVENTS_METRIC: &str = "robustmq_log_events_total";
/// Name of the cardinality-guard family.
pub const OVERFLOW_METRIC: &str = "robustmq_log_label_overflow_total";
const EVENTS_HELP: &str = "Tracing events counted in-process, by level, service and event name.";
const OVERFLOW_HELP: &str =
    "Events whose event name was replaced by \"overflow\" because the service reached max_events_per_service.";

/// Name of the gauge family that exports the label caps.
const LIMIT_METRIC: &str = "robustmq_log_label_limit";
const LIMIT_HELP: &str = "The caps of the cardinality guard: kind=\"events_per_service\" is max_events_per_service (reserved event values not counted), kind=\"services\" is max_services (the overflow service not counted).";

/// What an encoder is told of a family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Desc {
    /// The name of its samples (a counter's ends in `_total`).
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) kind: Kind,
}

/// The metric type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
}

/// The families of the series table, in exposition order.
const FAMILIES: [(Family, Desc); 2] = [
    (
        Family::Events,
        Desc {
            name: EVENTS_METRIC,
            help: EVENTS_HELP,
            kind: Kind::Counter,
        },
    ),
    (
        Family::Overflow,
        Desc {
            name: OVERFLOW_METRIC,
            help: OVERFLOW_HELP,
            kind: Kind::Counter,
        },
    ),
];

const LIMIT: Desc = Desc {
    name: LIMIT_METRIC,
    help: LIMIT_HELP,
    kind: Kind::Gauge,
};

/// The caps as `(kind, value)`, the samples of [`LIMIT_METRIC`]. Exported so
/// that alerts compare against the broker's real setting instead of a copy.
fn limits(instance: &Instance) -> [(&'static str, u64); 2] {
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    [
        ("events_per_service", n(instance.max_events_per_service())),
        ("services", n(instance.max_services())),
    ]
}

/// Milliseconds since the instance's epoch: the clock of `held`.
fn now_ms(instance: &Instance) -> u64 {
    u64::try_from(instance.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The first-sample policy (the crate docs, "The first sample", say why): a
/// series shows 0 the first time it is scraped (and for `hold_ms` after that).
/// `first_shown` is the series' stamp (0 = never shown); true = show 0 now.
fn held(first_shown: &AtomicU64, now_ms: u64, hold_ms: u64) -> bool {
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
