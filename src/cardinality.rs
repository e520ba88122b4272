//! The cardinality policy: which label values get a series of their own.
//!
//! - At most `max_services` services: a further new `service` value is
//!   counted under `service="overflow"`.
//! - At most `max_events_per_service` event values per service: a further new
//!   value is counted under `event="overflow"`, and once more in
//!   `robustmq_log_label_overflow_total{service}`.
//! - Reserved values cannot collide with logged ones: an event value equal to
//!   `unstructured` or `overflow` is counted in that reserved series (the one
//!   series with those labels), and a service value equal to `overflow` in
//!   the overflow service. So no two series ever carry the same labels, and
//!   the sum over all series is the number of events seen.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::labels::{LEVEL_NAMES, OVERFLOW, UNSTRUCTURED};
use crate::series::{Family, SeriesId, SeriesTable};

/// The series of one event value of one service: one per level, made on first use.
#[derive(Debug, Default)]
struct EventSlot {
    levels: [OnceLock<SeriesId>; LEVEL_NAMES.len()],
}

/// A service and its bounded set of event values.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) name: Arc<str>,
    /// Admitted event values; never holds a reserved value.
    events: DashMap<Box<str>, Arc<EventSlot>>,
    admitted_events: AtomicUsize,
    unstructured: EventSlot,
    overflow: EventSlot,
    /// `robustmq_log_label_overflow_total{service}`
    overflow_series: SeriesId,
    /// Set when the first value beyond the cap arrives, so that the warning
    /// is logged once per service.
    warned: AtomicBool,
}

/// What the policy decided for one event.
#[derive(Debug)]
pub(crate) struct Placement {
    pub(crate) series: SeriesId,
    /// False when a cap replaced the value: caching it per thread would let a
    /// flood of new values grow every thread's cache.
    pub(crate) cacheable: bool,
    /// A service whose event cap was just reached for the first time.
    pub(crate) cap_reached: Option<Arc<str>>,
}

/// The services of one instance and the caps that bound them.
#[derive(Debug)]
pub(crate) struct Cardinality {
    max_events_per_service: usize,
    max_services: usize,
    services: DashMap<Arc<str>, Arc<Service>>,
    admitted_services: AtomicUsize,
    overflow_service: OnceLock<Arc<Service>>,
}

impl Cardinality {
    pub(crate) fn new(max_events_per_service: usize, max_services: usize) -> Self {
        Self {
            max_events_per_service,
            max_services,
            services: DashMap::new(),
            admitted_services: AtomicUsize::new(0),
            overflow_service: OnceLock::new(),
        }
    }

    pub(crate) fn max_events_per_service(&self) -> usize {
        self.max_events_per_service
    }

    pub(crate) fn max_services(&self) -> usize {
        self.max_services
    }

    /// A service named in the configuration: always admitted, and counted
    /// against `max_services` like any other. The builder rejects reserved
    /// names, so `name` is never `overflow`.
    pub(crate) fn configured_service(&self, table: &SeriesTable, name: &str) -> Arc<Service> {
        match self.services.entry(name.into()) {
            Entry::Occupied(o) => o.get().clone(),
            Entry::Vacant(v) => {
                self.admitted_services.fetch_add(1, Ordering::Relaxed);
                let service = Arc::new(new_service(table, v.key().clone()));
                v.insert(service.clone());
                service
            }
        }
    }

    fn overflow_service(&self, table: &SeriesTable) -> Arc<Service> {
        self.overflow_service
            .get_or_init(|| Arc::new(new_service(table, OVERFLOW.into())))
            .clone()
    }

    /// The service for a logged service value (already cut to the length
    /// limit), and whether it has a service of its own (not overflow).
    pub(crate) fn service(&self, table: &SeriesTable, name: &str) -> (Arc<Service>, bool) {
        if name == OVERFLOW {
            return (self.overflow_service(table), true);
        }
        if let Some(s) = self.services.get(name) {
            return (s.clone(), true);
        }
        match self.services.entry(name.into()) {
            Entry::Occupied(o) => (o.get().clone(), true),
            Entry::Vacant(v) => {
                // Reserved under the entry lock, so the cap is exact under races.
                let admitted = self
                    .admitted_services
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        (n < self.max_services).then_some(n + 1)
                    })
                    .is_ok();
                if !admitted {
                    drop(v);
                    return (self.overflow_service(table), false);
                }
                let service = Arc::new(new_service(table, v.key().clone()));
                v.insert(service.clone());
                (service, true)
            }
        }
    }

    /// The series for `event` (`None`: the event had no event value) at
    /// `level` in `service`.
    pub(crate) fn place(
        &self,
        table: &SeriesTable,
        service: &Service,
        level: usize,
        event: Option<&str>,
    ) -> Placement {
        let placed = |slot: &EventSlot, name: &str| Placement {
            series: series_in(table, service, slot, level, name),
            cacheable: true,
            cap_reached: None,
        };
        let event = match event {
            None | Some(UNSTRUCTURED) => return placed(&service.unstructured, UNSTRUCTURED),
            Some(OVERFLOW) => return placed(&service.overflow, OVERFLOW),
            Some(e) => e,
        };
        if let Some(slot) = service.events.get(event) {
            return placed(&slot, event);
        }
        let slot = match service.events.entry(event.into()) {
            Entry::Occupied(o) => Some(o.get().clone()),
            Entry::Vacant(v) => {
                // Reserved under the entry lock, so the cap is exact under races.
                let admitted = service
                    .admitted_events
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        (n < self.max_events_per_service).then_some(n + 1)
                    })
                    .is_ok();
                admitted.then(|| v.insert(Arc::default()).clone())
            }
        };
        if let Some(slot) = slot {
            return placed(&slot, event);
        }
        if let Some(s) = table.get(service.overflow_series) {
            s.add_uncached(1);
        }
        let first = !service.warned.swap(true, Ordering::Relaxed);
        Placement {
            series: series_in(table, service, &service.overflow, level, OVERFLOW),
            cacheable: false,
            cap_reached: first.then(|| service.name.clone()),
        }
    }
}

fn new_service(table: &SeriesTable, name: Arc<str>) -> Service {
    let overflow_series = table.add(Family::Overflow, None, name.clone(), None);
    Service {
        name,
        events: DashMap::new(),
        admitted_events: AtomicUsize::new(0),
        unstructured: EventSlot::default(),
        overflow: EventSlot::default(),
        overflow_series,
        warned: AtomicBool::new(false),
    }
}

fn series_in(
    table: &SeriesTable,
    service: &Service,
    slot: &EventSlot,
    level: usize,
    event: &str,
) -> SeriesId {
    // `level` comes from `level_index`, always in range; `min` keeps an
    // out-of-range index from panicking all the same.
    let level = level.min(LEVEL_NAMES.len() - 1);
    *slot.levels[level].get_or_init(|| {
        table.add(
            Family::Events,
            Some(level),
            service.name.clone(),
            Some(event),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_of(table: &SeriesTable, id: SeriesId) -> (String, String) {
        let s = table.get(id).unwrap();
        (
            s.service.to_string(),
            s.event.as_deref().unwrap().to_owned(),
        )
    }

    #[test]
    fn reserved_event_values_share_the_reserved_series() {
        let table = SeriesTable::default();
        let policy = Cardinality::new(1, 4);
        let svc = policy.configured_service(&table, "svc");
        let none = policy.place(&table, &svc, 0, None).series;
        let named = policy.place(&table, &svc, 0, Some("unstructured")).series;
        assert_eq!(none, named);
        // The cap is 1: "a" takes it, "b" overflows into the overflow series,
        // which a logged "overflow" shares without counting as a dropped name.
        let a = policy.place(&table, &svc, 0, Some("a"));
        assert!(a.cacheable && a.cap_reached.is_none());
        let b = policy.place(&table, &svc, 0, Some("b"));
        assert!(!b.cacheable);
        assert_eq!(b.cap_reached.as_deref(), Some("svc"));
        let logged = policy.place(&table, &svc, 0, Some("overflow"));
        assert!(logged.cacheable);
        assert_eq!(logged.series, b.series);
        assert_eq!(
            event_of(&table, b.series),
            ("svc".into(), "overflow".into())
        );
        // Only "b" counted as a dropped name.
        assert_eq!(table.get(svc.overflow_series).unwrap().total(), 1);
        let c = policy.place(&table, &svc, 0, Some("c"));
        assert!(c.cap_reached.is_none(), "warned once per service");
    }

    #[test]
    fn logged_overflow_service_is_the_overflow_service() {
        let table = SeriesTable::default();
        let policy = Cardinality::new(8, 1);
        let (first, own) = policy.service(&table, "first");
        assert!(own);
        let (beyond, own) = policy.service(&table, "second");
        assert!(!own);
        let (logged, own) = policy.service(&table, "overflow");
        assert!(own);
        assert!(Arc::ptr_eq(&beyond, &logged));
        assert_eq!(&*first.name, "first");
        assert_eq!(&*beyond.name, "overflow");
    }
}
