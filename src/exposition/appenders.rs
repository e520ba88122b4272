//! The appender families: lines, bytes and dropped lines per appender, with
//! the global labels and the first-sample policy of the event families.
//! Absent from a scrape until an appender is registered.

use super::{global_labels_then, held, now_ms};
use crate::instance::Instance;

/// Lines an appender's wrapped writer accepted, by `appender`.
pub const APPENDER_LINES_METRIC: &str = "robustmq_log_appender_lines_total";
/// Bytes an appender's wrapped writer accepted, by `appender`.
pub const APPENDER_BYTES_METRIC: &str = "robustmq_log_appender_bytes_total";
/// Lines an appender lost (its dropped-lines source, such as a
/// `tracing_appender::non_blocking` `ErrorCounter`, plus failed writes), by `appender`.
pub const APPENDER_DROPPED_METRIC: &str = "robustmq_log_appender_dropped_lines_total";

const LINES_HELP: &str = "Log lines the appender's writer accepted, one per formatted event.";
const BYTES_HELP: &str = "Bytes of log lines the appender's writer accepted.";
const DROPPED_HELP: &str =
    "Log lines the appender lost: dropped by its non-blocking queue when full, or whose write failed.";

/// What one appender family shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Measure {
    Lines,
    Bytes,
    Dropped,
}

/// The three families: measure, text-format name, OpenMetrics family name, help.
pub(crate) const APPENDER_FAMILIES: [(Measure, &str, &str, &str); 3] = [
    (
        Measure::Lines,
        APPENDER_LINES_METRIC,
        "robustmq_log_appender_lines",
        LINES_HELP,
    ),
    (
        Measure::Bytes,
        APPENDER_BYTES_METRIC,
        "robustmq_log_appender_bytes",
        BYTES_HELP,
    ),
    (
        Measure::Dropped,
        APPENDER_DROPPED_METRIC,
        "robustmq_log_appender_dropped_lines",
        DROPPED_HELP,
    ),
];

/// One appender as a scrape shows it.
pub(crate) struct AppenderSample<'a> {
    pub(crate) name: &'a str,
    lines: u64,
    bytes: u64,
    dropped: u64,
}

impl AppenderSample<'_> {
    pub(crate) fn value(&self, measure: Measure) -> u64 {
        match measure {
            Measure::Lines => self.lines,
            Measure::Bytes => self.bytes,
            Measure::Dropped => self.dropped,
        }
    }
}

/// Every appender, in registration order, with what this scrape shows. The
/// three series of an appender are born together, so they share one
/// first-sample stamp: all 0 on the first scrape, all counted after.
pub(crate) fn snapshot(instance: &Instance) -> Vec<AppenderSample<'_>> {
    let now_ms = now_ms(instance);
    instance
        .appenders
        .iter()
        .map(|c| {
            if held(&c.first_shown, now_ms, instance.first_sample_hold_ms) {
                return AppenderSample {
                    name: &c.name,
                    lines: 0,
                    bytes: 0,
                    dropped: 0,
                };
            }
            AppenderSample {
                name: &c.name,
                lines: c.lines(),
                bytes: c.bytes(),
                dropped: c.dropped(),
            }
        })
        .collect()
}

/// The labels of an appender's series in exposition order: global labels,
/// then `appender`. Values are not escaped.
pub(crate) fn labels<'a>(
    instance: &'a Instance,
    name: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    global_labels_then(instance, "appender", name)
}
