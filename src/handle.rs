//! The handle: renders the counts and hands out the HTTP router.

use std::fmt;
use std::sync::Arc;

use crate::counters::Shared;

/// Reads the counts of one [`LogMetricsLayer`](crate::LogMetricsLayer).
///
/// Cheap to clone (an `Arc`), `Send + Sync`. Rendering takes no lock that
/// logging uses, so scrapes never slow down logging threads.
#[derive(Clone)]
pub struct LogMetricsHandle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for LogMetricsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogMetricsHandle")
            .field("instance", &self.shared.id)
            .field("series", &self.series_count())
            .finish_non_exhaustive()
    }
}

impl LogMetricsHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The Prometheus text format (0.0.4) of every series, with `# HELP` and
    /// `# TYPE`. A series is shown at 0 the first time it is rendered, so that
    /// Prometheus records a 0 before its first count (see the crate docs).
    pub fn render(&self) -> String {
        crate::render::render_text(&self.shared)
    }

    /// How many series (of both families) exist now.
    pub fn series_count(&self) -> usize {
        self.shared
            .series_count
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The exact number of events counted so far for one label set, or `None`
    /// when that series does not exist. Global labels are not part of the key.
    pub fn count(&self, level: &str, service: &str, event: &str) -> Option<u64> {
        let mut found = None;
        self.shared.for_each_series(|s| {
            if s.family == crate::counters::Family::Events
                && s.level.map(|l| crate::labels::LEVEL_NAMES[l]) == Some(level)
                && &*s.service == service
                && s.event.as_deref() == Some(event)
            {
                found = Some(s.total());
            }
        });
        found
    }

    /// The sum of every `robustmq_log_events_total` series: the number of
    /// events counted.
    pub fn total_events(&self) -> u64 {
        let mut sum = 0u64;
        self.shared.for_each_series(|s| {
            if s.family == crate::counters::Family::Events {
                sum += s.total();
            }
        });
        sum
    }
}
