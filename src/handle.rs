//! The handle: reads and renders the counts of one instance.

use std::fmt;
use std::sync::Arc;

use crate::instance::Instance;
use crate::labels::LEVEL_NAMES;
use crate::series::Family;
use crate::{AppenderMetrics, Error};

/// Reads the counts of one [`LogMetricsLayer`](crate::LogMetricsLayer).
///
/// Cheap to clone (an `Arc`), `Send + Sync`. Rendering takes no lock that
/// logging uses, so scrapes never slow down logging threads.
#[derive(Clone)]
pub struct LogMetricsHandle {
    pub(crate) instance: Arc<Instance>,
}

impl fmt::Debug for LogMetricsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogMetricsHandle")
            .field("instance", &self.instance.id)
            .field("series", &self.series_count())
            .finish_non_exhaustive()
    }
}

impl LogMetricsHandle {
    pub(crate) fn new(instance: Arc<Instance>) -> Self {
        Self { instance }
    }

    /// The Prometheus text format (0.0.4) of every series, with `# HELP` and
    /// `# TYPE`. A series is shown at 0 the first time it is rendered, so that
    /// Prometheus records a 0 before its first count (see the crate docs).
    pub fn render(&self) -> String {
        crate::exposition::text::render(&self.instance)
    }

    /// A `prometheus_client` collector over the same counts, for a registry
    /// the application already serves (feature `prometheus-client`).
    #[cfg(feature = "prometheus-client")]
    pub fn collector(&self) -> crate::LogMetricsCollector {
        crate::exposition::collector::LogMetricsCollector::new(self.instance.clone())
    }

    /// The counters of the log appender `name` (its `appender` label), made
    /// on the first call and the same for every later call with that name.
    /// Wrap the appender's writer with them, see [`AppenderMetrics`]; the
    /// `robustmq_log_appender_*` families appear on this handle's endpoint
    /// and collector from the first registered appender on.
    ///
    /// ```
    /// # let (_layer, handle) = robustmq_log_metrics::LogMetrics::builder().build()?;
    /// let file = handle.appender("server")?;
    /// let writer = file.make_writer(std::io::sink);
    /// # let _ = writer;
    /// assert_eq!(handle.appender("server")?.lines(), file.lines());
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAppenderName`] for an empty name or one longer than
    /// [`MAX_APPENDER_NAME_LEN`](crate::MAX_APPENDER_NAME_LEN) bytes;
    /// [`Error::TooManyAppenders`] for a new name once
    /// [`MAX_APPENDERS`](crate::MAX_APPENDERS) are registered.
    pub fn appender(&self, name: &str) -> Result<AppenderMetrics, Error> {
        self.instance.appenders.register(name)
    }

    /// How many series (of both families) exist now.
    pub fn series_count(&self) -> usize {
        self.instance.series.len()
    }

    /// The exact number of events counted so far for one label set, or `None`
    /// when that series does not exist. Global labels are not part of the key.
    pub fn count(&self, level: &str, service: &str, event: &str) -> Option<u64> {
        self.instance
            .series
            .iter()
            .find(|s| {
                s.family == Family::Events
                    && s.level.and_then(|l| LEVEL_NAMES.get(l)) == Some(&level)
                    && &*s.service == service
                    && s.event.as_deref() == Some(event)
            })
            .map(|s| s.total())
    }

    /// The sum of every `robustmq_log_events_total` series: the number of
    /// events counted.
    pub fn total_events(&self) -> u64 {
        self.instance
            .series
            .iter()
            .filter(|s| s.family == Family::Events)
            .fold(0u64, |sum, s| sum.wrapping_add(s.total()))
    }
}
