//! The `Layer` and its per-thread cache from (callsite, service, event) to a counter cell.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Weak};

use tracing_core::callsite::Identifier;
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Interest, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::counters::{CallsiteInfo, CellRef, Resolved, Shared, INTERNAL_TARGET};
use crate::labels::{truncate, Capped, FxMap};

/// A `tracing_subscriber::Layer` that counts every event it sees into
/// `robustmq_log_events_total{level,service,event}`.
///
/// It observes and never filters: narrow what it counts with
/// `.with_filter(..)` without changing what other layers see. Made by
/// [`LogMetricsBuilder::build`](crate::LogMetricsBuilder::build).
#[derive(Clone)]
pub struct LogMetricsLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for LogMetricsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogMetricsLayer")
            .field("instance", &self.shared.id)
            .finish_non_exhaustive()
    }
}

impl LogMetricsLayer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl<S: Subscriber> Layer<S> for LogMetricsLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_event() && self.shared.enabled {
            self.shared.callsite(metadata);
        }
        // Observe only: never narrow what other layers see.
        Interest::always()
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !self.shared.enabled {
            return;
        }
        let warn = CACHE
            .try_with(|cache| match cache.try_borrow_mut() {
                Ok(mut cache) => Some(cache.count(&self.shared, event)),
                // Re-entered from inside our own counting: count without the cache.
                Err(_) => None,
            })
            .ok()
            .flatten()
            // TLS already destroyed (an event logged during thread exit).
            .unwrap_or_else(|| count_uncached(&self.shared, event));
        if let Some(service) = warn {
            // Emitted after the cache borrow ends; our own layer skips this target.
            tracing::warn!(
                target: "robustmq_log_metrics::internal",
                service = %service,
                max_events_per_service = self.shared.max_events(),
                "log metrics: too many distinct event names for this service; further new names are counted as event=\"overflow\""
            );
        }
    }
}

const _: () = assert!(matches!(
    INTERNAL_TARGET.as_bytes(),
    b"robustmq_log_metrics::internal"
));

thread_local! {
    static CACHE: RefCell<ThreadCache> = RefCell::new(ThreadCache::default());
}

/// Everything one thread has resolved, so that a known event costs a few hash
/// lookups and an unshared increment, with no lock and no allocation.
#[derive(Default)]
struct ThreadCache {
    instances: Vec<InstanceCache>,
    event: String,
    service: String,
}

struct InstanceCache {
    id: u64,
    shared: Weak<Shared>,
    callsites: FxMap<Identifier, CallsiteCache>,
}

struct CallsiteCache {
    info: Arc<CallsiteInfo>,
    default: ServiceCache,
    services: FxMap<Box<str>, ServiceCache>,
}

#[derive(Default)]
struct ServiceCache {
    unstructured: Option<CellRef>,
    events: FxMap<Box<str>, CellRef>,
}

impl ServiceCache {
    fn cells(&self) -> impl Iterator<Item = CellRef> + '_ {
        self.unstructured
            .into_iter()
            .chain(self.events.values().copied())
    }
}

/// Copies the event and service field values, capped, into reused buffers.
struct Grab<'a> {
    event_idx: Option<usize>,
    service_idx: Option<usize>,
    event: &'a mut String,
    service: &'a mut String,
    has_event: bool,
    has_service: bool,
    max: usize,
}

impl Grab<'_> {
    fn slot(&mut self, field: &Field) -> Option<&mut String> {
        let i = Some(field.index());
        if i == self.event_idx {
            self.has_event = true;
            Some(self.event)
        } else if i == self.service_idx {
            self.has_service = true;
            Some(self.service)
        } else {
            None
        }
    }
}

impl Visit for Grab<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let max = self.max;
        if let Some(buf) = self.slot(field) {
            buf.clear();
            buf.push_str(truncate(value, max));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let max = self.max;
        if let Some(buf) = self.slot(field) {
            buf.clear();
            let _ = write!(Capped { out: buf, max }, "{value:?}");
        }
    }
}

/// Reads the two label fields of `event` into `event_buf` / `service_buf`.
/// Returns (event value present, non-empty service value present).
fn grab(
    info: &CallsiteInfo,
    shared: &Shared,
    event: &Event<'_>,
    event_buf: &mut String,
    service_buf: &mut String,
) -> (bool, bool) {
    if !info.is_dynamic() {
        return (false, false);
    }
    let mut g = Grab {
        event_idx: info.event_field,
        service_idx: info.service_field,
        event: event_buf,
        service: service_buf,
        has_event: false,
        has_service: false,
        max: shared.max_label_len,
    };
    event.record(&mut g);
    // An empty service would be no label at all in Prometheus: fall back to the target's.
    let has_service = g.has_service && !g.service.is_empty();
    (g.has_event, has_service)
}

fn instance<'a>(
    instances: &'a mut Vec<InstanceCache>,
    shared: &Arc<Shared>,
) -> &'a mut InstanceCache {
    if let Some(i) = instances.iter().position(|i| i.id == shared.id) {
        return &mut instances[i];
    }
    // Forget instances that were dropped, so test suites that build many stay small.
    instances.retain(|i| i.shared.strong_count() > 0);
    instances.push(InstanceCache {
        id: shared.id,
        shared: Arc::downgrade(shared),
        callsites: FxMap::default(),
    });
    let last = instances.len() - 1;
    &mut instances[last]
}

impl ThreadCache {
    /// Counts one event; returns a service to warn about when its cap was just hit.
    fn count(&mut self, shared: &Arc<Shared>, event: &Event<'_>) -> Option<Arc<str>> {
        let meta = event.metadata();
        let ThreadCache {
            instances,
            event: ebuf,
            service: sbuf,
        } = self;
        let inst = instance(instances, shared);
        let cs = inst
            .callsites
            .entry(meta.callsite())
            .or_insert_with(|| CallsiteCache {
                info: shared.callsite(meta),
                default: ServiceCache::default(),
                services: FxMap::default(),
            });
        if cs.info.internal {
            return None;
        }
        let (has_event, has_service) = grab(&cs.info, shared, event, ebuf, sbuf);
        let svc_cache = if has_service {
            cs.services.get_mut(sbuf.as_str())
        } else {
            Some(&mut cs.default)
        };
        if let Some(c) = svc_cache {
            let hit = if has_event {
                c.events.get(ebuf.as_str()).copied()
            } else {
                c.unstructured
            };
            if let Some(cell) = hit {
                cell.incr();
                return None;
            }
        }
        // Slow path: first sight of this (callsite, service, event) on this thread.
        let r: Resolved = shared.resolve(
            &cs.info,
            has_service.then_some(sbuf.as_str()),
            has_event.then_some(ebuf.as_str()),
        );
        if !r.cacheable {
            r.series.get().add_shared(1);
            return r.warn;
        }
        let cell = r.series.get().claim_cell();
        cell.incr();
        let svc_cache = if has_service {
            cs.services.entry(sbuf.as_str().into()).or_default()
        } else {
            &mut cs.default
        };
        if has_event {
            svc_cache.events.insert(ebuf.as_str().into(), cell);
        } else {
            svc_cache.unstructured = Some(cell);
        }
        r.warn
    }
}

impl Drop for ThreadCache {
    fn drop(&mut self) {
        // Hand this thread's cells back so a later thread continues their
        // counts instead of adding new cells: memory stays bounded by the
        // number of threads alive at once, not the number ever started.
        for inst in &self.instances {
            // Holding the Arc keeps the cells alive while we release them.
            let Some(_alive) = inst.shared.upgrade() else {
                continue;
            };
            for cs in inst.callsites.values() {
                cs.default.cells().for_each(CellRef::release);
                for svc in cs.services.values() {
                    svc.cells().for_each(CellRef::release);
                }
            }
        }
    }
}

/// Counts without the thread cache: shared atomic add on the series.
fn count_uncached(shared: &Arc<Shared>, event: &Event<'_>) -> Option<Arc<str>> {
    let info = shared.callsite(event.metadata());
    if info.internal {
        return None;
    }
    let (mut ebuf, mut sbuf) = (String::new(), String::new());
    let (has_event, has_service) = grab(&info, shared, event, &mut ebuf, &mut sbuf);
    let r = shared.resolve(
        &info,
        has_service.then_some(sbuf.as_str()),
        has_event.then_some(ebuf.as_str()),
    );
    r.series.get().add_shared(1);
    r.warn
}
