//! The appender families: lines, bytes and dropped lines per appender, with
//! the global labels and the first-sample policy of the event families.
//! Absent from a scrape until an appender is registered.

use super::{held, Desc, Kind};
use crate::instance::Instance;

/// Lines an appender's wrapped writer accepted, by `appender`.
pub const APPENDER_LINES_METRIC: &str = "robustmq_log_appender_lines_total";
/// Bytes an appender's wrapped writer accepted, by `appender`.
pub const APPENDER_BYTES_METRIC: &str = "robustmq_log_appender_bytes_total";
/// Lines an appender lost (its dropped-lines source, such as a
/// `tracing_appender::non_blocking` `ErrorCounter`, plus failed writes), by `appender`.
pub const APPENDER_DROPPED_METRIC: &str = "robustmq_log_appender_dropped_lines_total";

/// Lines a `LineLimit` kept from an appender's fmt layer, by `appender`.
pub const APPENDER_SUPPRESSED_METRIC: &str = "robustmq_log_appender_suppressed_lines_total";

const LINES_HELP: &str = "Log lines the appender's writer accepted, one per formatted event.";
const BYTES_HELP: &str = "Bytes of log lines the appender's writer accepted.";
const SUPPRESSED_HELP: &str =
    "Log lines the appender's line limit kept from it: lines of a call site over its budget, and other appenders' summary lines.";
const DROPPED_HELP: &str =
    "Log lines the appender lost: dropped by its non-blocking queue when full, or whose write failed.";

/// What one appender family shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Measure {
    Lines,
    Bytes,
    Dropped,
    Suppressed,
}

/// The four families, in exposition order, with what each shows.
pub(crate) const APPENDER_FAMILIES: [(Measure, Desc); 4] = [
    (
        Measure::Lines,
        Desc {
            name: APPENDER_LINES_METRIC,
            help: LINES_HELP,
            kind: Kind::Counter,
        },
    ),
    (
        Measure::Bytes,
        Desc {
            name: APPENDER_BYTES_METRIC,
            help: BYTES_HELP,
            kind: Kind::Counter,
        },
    ),
    (
        Measure::Dropped,
        Desc {
            name: APPENDER_DROPPED_METRIC,
            help: DROPPED_HELP,
            kind: Kind::Counter,
        },
    ),
    (
        Measure::Suppressed,
        Desc {
            name: APPENDER_SUPPRESSED_METRIC,
            help: SUPPRESSED_HELP,
            kind: Kind::Counter,
        },
    ),
];

/// One appender as a scrape shows it.
pub(crate) struct AppenderSample<'a> {
    pub(crate) name: &'a str,
    lines: u64,
    bytes: u64,
    dropped: u64,
    suppressed: u64,
}

impl AppenderSample<'_> {
    pub(crate) fn value(&self, measure: Measure) -> u64 {
        match measure {
            Measure::Lines => self.lines,
            Measure::Bytes => self.bytes,
            Measure::Dropped => self.dropped,
            Measure::Suppressed => self.suppressed,
        }
    }
}

/// Every appender, in registration order, with what this scrape shows. The
/// four series of an appender are born together, so they share one
/// first-sample stamp: all 0 on the first scrape, all counted after.
pub(crate) fn snapshot(instance: &Instance, now_ms: u64) -> Vec<AppenderSample<'_>> {
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
                    suppressed: 0,
                };
            }
            AppenderSample {
                name: &c.name,
                lines: c.lines(),
                bytes: c.bytes(),
                dropped: c.dropped(),
                suppressed: c.suppressed(),
            }
        })
        .collect()
}
