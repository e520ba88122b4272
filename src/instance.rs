//! One `LogMetrics` instance: its settings, its series table and cardinality
//! policy, and the facts computed once per callsite. Shared by the layer, the
//! per-thread caches and the handle.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dashmap::DashMap;
use tracing_core::callsite::Identifier;
use tracing_core::Metadata;

use crate::appender::AppenderTable;
use crate::cardinality::{Cardinality, Placement, Service};
use crate::config::{LayerConfig, UnstructuredEvents};
use crate::labels::{level_index, truncate};
use crate::series::SeriesTable;

/// Target of the events this crate logs about itself; they are not counted,
/// so a warning about a cap can never re-enter the count.
pub(crate) const INTERNAL_TARGET: &str = "robustmq_log_metrics::internal";

/// Text appended to every render (the optional global `metrics` recorder's).
pub(crate) type ExtraExposition = Box<dyn Fn() -> String + Send + Sync>;

/// Facts about one callsite, computed when it registers.
#[derive(Debug)]
pub(crate) struct CallsiteInfo {
    pub(crate) level: usize,
    pub(crate) service: Arc<Service>,
    pub(crate) event_field: Option<usize>,
    pub(crate) service_field: Option<usize>,
    /// Events this crate logs about itself are not counted.
    pub(crate) internal: bool,
    /// The event value of an event without an event field: `None` means
    /// `unstructured`, `Some` the call site (`module::path:line`).
    pub(crate) fallback_event: Option<Box<str>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Everything one instance counts.
pub(crate) struct Instance {
    /// Tells this instance's entries apart in the per-thread caches.
    pub(crate) id: u64,
    pub(crate) enabled: bool,
    pub(crate) max_label_len: usize,
    event_field: Box<str>,
    service_field: Box<str>,
    /// Global labels, values already cut to `max_label_len`.
    pub(crate) global_labels: Vec<(String, String)>,
    /// Start of the clock of `Series::first_shown`.
    pub(crate) epoch: Instant,
    pub(crate) first_sample_hold_ms: u64,
    callsite_events: bool,
    pub(crate) series: SeriesTable,
    cardinality: Cardinality,
    /// Target prefixes, longest first.
    targets: Vec<(Box<str>, Arc<Service>)>,
    default_service: Arc<Service>,
    callsites: DashMap<Identifier, Arc<CallsiteInfo>>,
    pub(crate) extra_exposition: Option<ExtraExposition>,
    /// Counters of the appenders registered through the handle.
    pub(crate) appenders: AppenderTable,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("id", &self.id)
            .field("series", &self.series.len())
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// `config` must have passed `validate()`.
    pub(crate) fn new(config: LayerConfig, extra_exposition: Option<ExtraExposition>) -> Self {
        let cut = |v: &str| truncate(v, config.max_label_len).to_owned();
        let series = SeriesTable::default();
        let cardinality = Cardinality::new(config.max_events_per_service, config.max_services);
        let default_service =
            cardinality.configured_service(&series, &cut(&config.default_service));
        let mut targets: Vec<(Box<str>, Arc<Service>)> = config
            .target_services()
            .iter()
            .map(|(prefix, service)| {
                let service = cardinality.configured_service(&series, &cut(service));
                (prefix.as_str().into(), service)
            })
            .collect();
        // A stable sort keeps the first of equal prefixes first.
        targets.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            enabled: config.enabled,
            max_label_len: config.max_label_len,
            event_field: config.event_field.as_str().into(),
            service_field: config.service_field.as_str().into(),
            global_labels: config
                .global_labels
                .iter()
                .map(|(k, v)| (k.clone(), cut(v)))
                .collect(),
            epoch: Instant::now(),
            first_sample_hold_ms: u64::try_from(config.first_sample_hold.as_millis())
                .unwrap_or(u64::MAX),
            callsite_events: config.unstructured == UnstructuredEvents::Callsite,
            series,
            cardinality,
            targets,
            default_service,
            callsites: DashMap::new(),
            extra_exposition,
            appenders: AppenderTable::default(),
        }
    }

    pub(crate) fn max_events_per_service(&self) -> usize {
        self.cardinality.max_events_per_service()
    }

    pub(crate) fn max_services(&self) -> usize {
        self.cardinality.max_services()
    }

    /// The callsite's facts, computed on first sight.
    pub(crate) fn callsite(&self, meta: &'static Metadata<'static>) -> Arc<CallsiteInfo> {
        let id = meta.callsite();
        if let Some(info) = self.callsites.get(&id) {
            return info.clone();
        }
        let info = Arc::new(self.compute_callsite(meta));
        self.callsites.entry(id).or_insert(info).clone()
    }

    fn compute_callsite(&self, meta: &'static Metadata<'static>) -> CallsiteInfo {
        let target = meta.target();
        let service = self
            .targets
            .iter()
            .find(|(prefix, _)| target.starts_with(&**prefix))
            .map_or_else(|| self.default_service.clone(), |(_, s)| s.clone());
        let fields = meta.fields();
        let fallback_event = self.callsite_events.then(|| {
            let place = format!(
                "{}:{}",
                meta.module_path().unwrap_or(target),
                meta.line().unwrap_or(0)
            );
            truncate(&place, self.max_label_len).into()
        });
        let info = CallsiteInfo {
            level: level_index(meta.level()),
            service,
            event_field: fields.field(&*self.event_field).map(|f| f.index()),
            service_field: fields.field(&*self.service_field).map(|f| f.index()),
            internal: target == INTERNAL_TARGET,
            fallback_event,
        };
        // A callsite whose labels are fixed gets its series now, at 0, so its
        // first event is visible to rate() even before any scrape.
        if info.event_field.is_none() && info.service_field.is_none() && !info.internal {
            self.place(&info, None, None);
        }
        info
    }

    /// Finds or makes the series of an event of `info` with these label
    /// values (already cut to `max_label_len`); `None` when the event had no
    /// such field.
    pub(crate) fn place(
        &self,
        info: &CallsiteInfo,
        service: Option<&str>,
        event: Option<&str>,
    ) -> Placement {
        let (service, own) = match service {
            Some(name) => self.cardinality.service(&self.series, name),
            None => (info.service.clone(), true),
        };
        let mut placed = self.cardinality.place(
            &self.series,
            &service,
            info.level,
            event.or(info.fallback_event.as_deref()),
        );
        placed.cacheable &= own;
        placed
    }
}
