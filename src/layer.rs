//! The `tracing_subscriber::Layer`: glue between tracing and the per-thread cache.

use std::fmt;
use std::sync::Arc;

use tracing_core::{Event, Interest, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::instance::{Instance, INTERNAL_TARGET};

/// A `tracing_subscriber::Layer` that counts every event it sees into
/// `robustmq_log_events_total{level,service,event}`.
///
/// It observes and never filters: narrow what it counts with
/// `.with_filter(..)` without changing what other layers see. Made by
/// [`LogMetricsBuilder::build`](crate::LogMetricsBuilder::build).
#[derive(Clone)]
pub struct LogMetricsLayer {
    instance: Arc<Instance>,
}

impl fmt::Debug for LogMetricsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogMetricsLayer")
            .field("instance", &self.instance.id)
            .finish_non_exhaustive()
    }
}

impl LogMetricsLayer {
    pub(crate) fn new(instance: Arc<Instance>) -> Self {
        Self { instance }
    }
}

impl<S: Subscriber> Layer<S> for LogMetricsLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_event() && self.instance.enabled {
            self.instance.callsite(metadata);
        }
        // Observe only: never narrow what other layers see.
        Interest::always()
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !self.instance.enabled {
            return;
        }
        if let Some(service) = crate::cache::count(&self.instance, event) {
            warn_cap_reached(&self.instance, &service);
        }
    }
}

/// Logged after the count, outside the cache; this crate does not count its
/// own target, so the warning cannot re-enter. Out of line: the event's
/// fields kept in `on_event` made every event pay for the warning's frame.
#[cold]
#[inline(never)]
fn warn_cap_reached(instance: &Instance, service: &str) {
    tracing::warn!(
        target: "robustmq_log_metrics::internal",
        service = %service,
        max_events_per_service = instance.max_events_per_service(),
        "log metrics: too many distinct event names for this service; further new names are counted as event=\"overflow\""
    );
}

// `tracing::warn!` needs a literal target: keep it equal to the constant.
const _: () = assert!(matches!(
    INTERNAL_TARGET.as_bytes(),
    b"robustmq_log_metrics::internal"
));
