//! The series table: services, event slots, the cardinality guard, and the
//! per-thread counter cells that are folded at scrape time.
//!
//! Memory model: every `Series` and every `Cell` lives in an append-only,
//! lock-free linked list owned by `Shared` and is freed only when `Shared` is
//! dropped. Scrapes walk these lists without a lock, so a scrape never blocks
//! logging and logging never blocks a scrape. A cell has exactly one writer
//! (the thread that claimed it), which increments with a plain load + store:
//! no atomic read-modify-write and no cache line shared between threads.

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use tracing_core::callsite::Identifier;
use tracing_core::Metadata;

use crate::builder::LogMetricsBuilder;
use crate::labels::{escape_label_value, level_index, LEVEL_NAMES, OVERFLOW, UNSTRUCTURED};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One thread's share of one series' count. Aligned to a cache line so two
/// threads' cells never share one (false sharing tripled the per-thread cost
/// of two threads logging different callsites in `benches/overhead.rs`).
#[repr(align(64))]
pub(crate) struct Cell {
    count: AtomicU64,
    claimed: AtomicBool,
    next: *mut Cell,
}

/// A pointer to a `Cell` owned by a live `Shared`.
#[derive(Clone, Copy)]
pub(crate) struct CellRef(NonNull<Cell>);

impl CellRef {
    /// Adds one. Only the thread that claimed the cell calls this.
    #[inline]
    pub(crate) fn incr(self) {
        // SAFETY: the cell lives as long as its `Shared`, which the caller holds.
        let c = unsafe { self.0.as_ref() };
        // Single writer: load + store is exact and avoids a locked instruction.
        c.count.store(
            c.count.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// Gives the cell back so another thread can continue its count.
    pub(crate) fn release(self) {
        // SAFETY: as in `incr`.
        let c = unsafe { self.0.as_ref() };
        // Release pairs with the Acquire claim: the next owner sees our last count.
        c.claimed.store(false, Ordering::Release);
    }
}

/// Which family a series belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Events,
    Overflow,
}

/// One exposed series.
pub(crate) struct Series {
    pub(crate) family: Family,
    pub(crate) level: Option<usize>,
    pub(crate) service: Arc<str>,
    pub(crate) event: Option<Box<str>>,
    /// The escaped label block, `{node_id="1",level="error",...}`, built once.
    pub(crate) label_block: Box<str>,
    /// Counts made without a thread cell (re-entrant or TLS-less events, overflow).
    fallback: AtomicU64,
    cells: AtomicPtr<Cell>,
    /// Milliseconds since `Shared::epoch` (plus one) when a scrape first
    /// showed this series; 0 = never shown.
    first_shown: AtomicU64,
    next: *mut Series,
}

impl Series {
    /// The exact count so far.
    pub(crate) fn total(&self) -> u64 {
        let mut sum = self.fallback.load(Ordering::Relaxed);
        let mut p = self.cells.load(Ordering::Acquire);
        while let Some(c) = NonNull::new(p) {
            // SAFETY: cells are freed only with the series.
            let c = unsafe { c.as_ref() };
            sum = sum.wrapping_add(c.count.load(Ordering::Relaxed));
            p = c.next;
        }
        sum
    }

    /// The value a scrape shows: 0 the first time a series is scraped (and
    /// for `hold` after that), so every Prometheus scraping it records a 0
    /// before the first count and `increase()` sees that count. Deferring
    /// loses nothing: the count shows in full afterwards.
    pub(crate) fn scrape_value(&self, now_ms: u64, hold_ms: u64) -> u64 {
        let stamp = now_ms.saturating_add(1);
        // A plain load first: the read-modify-write happens once per series.
        let mut first = self.first_shown.load(Ordering::Relaxed);
        if first == 0 {
            match self
                .first_shown
                .compare_exchange(0, stamp, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return 0,
                Err(f) => first = f,
            }
        }
        if stamp.saturating_sub(first) < hold_ms {
            return 0;
        }
        self.total()
    }

    /// How many thread cells this series has (claimed or free).
    #[cfg(test)]
    pub(crate) fn cell_count(&self) -> usize {
        let mut n = 0;
        let mut p = self.cells.load(Ordering::Acquire);
        while let Some(c) = NonNull::new(p) {
            n += 1;
            // SAFETY: as in `total`.
            p = unsafe { c.as_ref() }.next;
        }
        n
    }

    pub(crate) fn add_shared(&self, n: u64) {
        self.fallback.fetch_add(n, Ordering::Relaxed);
    }

    /// Claims a free cell (continuing its count) or adds a new one.
    pub(crate) fn claim_cell(&self) -> CellRef {
        let mut p = self.cells.load(Ordering::Acquire);
        while let Some(c) = NonNull::new(p) {
            // SAFETY: as in `total`.
            let cell = unsafe { c.as_ref() };
            if cell
                .claimed
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return CellRef(c);
            }
            p = cell.next;
        }
        let new = Box::into_raw(Box::new(Cell {
            count: AtomicU64::new(0),
            claimed: AtomicBool::new(true),
            next: ptr::null_mut(),
        }));
        push(&self.cells, new, |n, next| n.next = next);
        // SAFETY: just allocated, never null.
        CellRef(unsafe { NonNull::new_unchecked(new) })
    }
}

/// Pushes `node` on a lock-free append-only list (no pop, so no ABA).
fn push<T>(head: &AtomicPtr<T>, node: *mut T, set_next: impl Fn(&mut T, *mut T)) {
    let mut cur = head.load(Ordering::Relaxed);
    loop {
        // SAFETY: `node` is ours until the CAS below publishes it.
        set_next(unsafe { &mut *node }, cur);
        match head.compare_exchange_weak(cur, node, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

/// A pointer to a `Series` owned by a live `Shared`.
#[derive(Clone, Copy)]
pub(crate) struct SeriesRef(NonNull<Series>);

// SAFETY: Series is only mutated through atomics; the raw `next` is immutable
// after publication.
unsafe impl Send for SeriesRef {}
unsafe impl Sync for SeriesRef {}
unsafe impl Send for CellRef {}
unsafe impl Sync for CellRef {}

impl SeriesRef {
    pub(crate) fn get(&self) -> &Series {
        // SAFETY: series live as long as their `Shared`.
        unsafe { self.0.as_ref() }
    }
}

/// One `event` value of one service: a series per level, made on first use.
struct EventSlot {
    levels: [OnceLock<SeriesRef>; 5],
}

impl EventSlot {
    fn new() -> Self {
        Self {
            levels: Default::default(),
        }
    }
}

/// A service and its bounded set of event values.
pub(crate) struct ServiceState {
    name: Arc<str>,
    events: DashMap<Box<str>, Arc<EventSlot>>,
    distinct: AtomicUsize,
    unstructured: EventSlot,
    overflow: EventSlot,
    overflow_counter: SeriesRef,
    warned: AtomicBool,
}

/// Per-callsite facts, computed once when the callsite registers.
pub(crate) struct CallsiteInfo {
    pub(crate) level: usize,
    pub(crate) service: Arc<ServiceState>,
    pub(crate) event_field: Option<usize>,
    pub(crate) service_field: Option<usize>,
    /// Events this crate emits about itself are not counted (no re-entry).
    pub(crate) internal: bool,
}

impl CallsiteInfo {
    pub(crate) fn is_dynamic(&self) -> bool {
        self.event_field.is_some() || self.service_field.is_some()
    }
}

/// What the slow path found for an event.
pub(crate) struct Resolved {
    pub(crate) series: SeriesRef,
    /// False when the value was dropped by a cap: caching it would let an
    /// attacker grow every thread's cache.
    pub(crate) cacheable: bool,
    /// The service whose cap was hit for the first time: warn about it.
    pub(crate) warn: Option<Arc<str>>,
}

/// Target that marks events emitted by this crate.
pub(crate) const INTERNAL_TARGET: &str = "robustmq_log_metrics::internal";

/// Everything one `LogMetrics` instance counts, shared by its layer and handles.
pub(crate) struct Shared {
    pub(crate) id: u64,
    pub(crate) enabled: bool,
    pub(crate) event_field: Box<str>,
    pub(crate) service_field: Box<str>,
    pub(crate) max_label_len: usize,
    /// Start of the clock for `Series::first_shown`.
    pub(crate) epoch: std::time::Instant,
    /// How long a new series keeps showing 0 after its first scrape.
    pub(crate) first_sample_hold_ms: u64,
    max_events: usize,
    max_services: usize,
    /// Escaped `name="value",` pairs that start every label block.
    global_block: String,
    #[cfg_attr(not(feature = "prometheus-client"), allow(dead_code))]
    pub(crate) global_labels: Vec<(String, String)>,
    /// Target prefixes, longest first.
    targets: Vec<(Box<str>, Arc<ServiceState>)>,
    default_service: Arc<ServiceState>,
    services: DashMap<Arc<str>, Arc<ServiceState>>,
    service_count: AtomicUsize,
    overflow_service: OnceLock<Arc<ServiceState>>,
    callsites: DashMap<Identifier, Arc<CallsiteInfo>>,
    series_head: AtomicPtr<Series>,
    pub(crate) series_count: AtomicUsize,
    /// Text appended to every render (the global `metrics` recorder's series).
    pub(crate) recorder: Option<crate::builder::AppendedText>,
}

// SAFETY: all shared mutable state is atomics, DashMaps or lock-free lists
// whose nodes are immutable after publication.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    pub(crate) fn new(
        b: LogMetricsBuilder,
        recorder: Option<crate::builder::AppendedText>,
    ) -> Self {
        let mut global_block = String::new();
        for (k, v) in &b.global_labels {
            global_block.push_str(k);
            global_block.push_str("=\"");
            escape_label_value(
                &mut global_block,
                crate::labels::truncate(v, b.max_label_len),
            );
            global_block.push_str("\",");
        }
        let target_services = b.target_services();
        let mut shared = Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            enabled: b.enabled,
            event_field: b.event_field.into(),
            service_field: b.service_field.into(),
            max_label_len: b.max_label_len,
            epoch: std::time::Instant::now(),
            first_sample_hold_ms: u64::try_from(b.first_sample_hold.as_millis())
                .unwrap_or(u64::MAX),
            max_events: b.max_events_per_service,
            max_services: b.max_services,
            global_block,
            global_labels: b.global_labels,
            targets: Vec::new(),
            // Replaced below; a placeholder avoids an Option on the hot path.
            default_service: Arc::new(ServiceState::placeholder()),
            services: DashMap::new(),
            service_count: AtomicUsize::new(0),
            overflow_service: OnceLock::new(),
            callsites: DashMap::new(),
            series_head: AtomicPtr::new(ptr::null_mut()),
            series_count: AtomicUsize::new(0),
            recorder,
        };
        let truncate = |s: &str| crate::labels::truncate(s, b.max_label_len).to_owned();
        shared.default_service = shared.configured_service(&truncate(&b.default_service));
        let mut targets: Vec<(Box<str>, Arc<ServiceState>)> = target_services
            .iter()
            .map(|(p, s)| (p.as_str().into(), shared.configured_service(&truncate(s))))
            .collect();
        // Longest prefix first; a stable sort keeps the first of equal prefixes.
        targets.sort_by_key(|t| std::cmp::Reverse(t.0.len()));
        shared.targets = targets;
        shared
    }

    /// A service named in the configuration: always admitted, counted against
    /// the cap like any other.
    fn configured_service(&self, name: &str) -> Arc<ServiceState> {
        if let Some(s) = self.services.get(name) {
            return s.clone();
        }
        self.service_count.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(self.new_service(name.into()));
        self.services.insert(state.name.clone(), state.clone());
        state
    }

    fn new_service(&self, name: Arc<str>) -> ServiceState {
        let overflow_counter = self.new_series(Family::Overflow, None, name.clone(), None);
        ServiceState {
            name,
            events: DashMap::new(),
            distinct: AtomicUsize::new(0),
            unstructured: EventSlot::new(),
            overflow: EventSlot::new(),
            overflow_counter,
            warned: AtomicBool::new(false),
        }
    }

    fn new_series(
        &self,
        family: Family,
        level: Option<usize>,
        service: Arc<str>,
        event: Option<&str>,
    ) -> SeriesRef {
        let mut block = String::with_capacity(self.global_block.len() + 64);
        block.push('{');
        block.push_str(&self.global_block);
        if let Some(l) = level {
            block.push_str("level=\"");
            block.push_str(LEVEL_NAMES[l]);
            block.push_str("\",");
        }
        block.push_str("service=\"");
        escape_label_value(&mut block, &service);
        block.push('"');
        if let Some(e) = event {
            block.push_str(",event=\"");
            escape_label_value(&mut block, e);
            block.push('"');
        }
        block.push('}');
        let node = Box::into_raw(Box::new(Series {
            family,
            level,
            service,
            event: event.map(Into::into),
            label_block: block.into(),
            fallback: AtomicU64::new(0),
            cells: AtomicPtr::new(ptr::null_mut()),
            first_shown: AtomicU64::new(0),
            next: ptr::null_mut(),
        }));
        push(&self.series_head, node, |n, next| n.next = next);
        self.series_count.fetch_add(1, Ordering::Relaxed);
        // SAFETY: just allocated.
        SeriesRef(unsafe { NonNull::new_unchecked(node) })
    }

    /// Calls `f` on every series, newest first, without taking a lock.
    pub(crate) fn for_each_series<'a>(&'a self, mut f: impl FnMut(&'a Series)) {
        let mut p = self.series_head.load(Ordering::Acquire);
        while let Some(s) = NonNull::new(p) {
            // SAFETY: series are freed only in Drop.
            let s = unsafe { s.as_ref() };
            f(s);
            p = s.next;
        }
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
            .find(|(p, _)| target.starts_with(&**p))
            .map_or_else(|| self.default_service.clone(), |(_, s)| s.clone());
        let fields = meta.fields();
        let info = CallsiteInfo {
            level: level_index(meta.level()),
            service,
            event_field: fields.field(&*self.event_field).map(|f| f.index()),
            service_field: fields.field(&*self.service_field).map(|f| f.index()),
            internal: target == INTERNAL_TARGET,
        };
        // A callsite whose labels are fixed gets its series now, at 0, so its
        // first event is visible to rate() even before any scrape.
        if !info.is_dynamic() && !info.internal {
            self.series_in(
                &info.service,
                &info.service.unstructured,
                info.level,
                UNSTRUCTURED,
            );
        }
        info
    }

    fn series_in(
        &self,
        svc: &ServiceState,
        slot: &EventSlot,
        level: usize,
        event: &str,
    ) -> SeriesRef {
        *slot.levels[level].get_or_init(|| {
            self.new_series(Family::Events, Some(level), svc.name.clone(), Some(event))
        })
    }

    /// The service state for a service-field value (already length-capped).
    fn service_named(&self, name: &str) -> (Arc<ServiceState>, bool) {
        if let Some(s) = self.services.get(name) {
            return (s.clone(), true);
        }
        let admitted = self
            .service_count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max_services).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            let o = self
                .overflow_service
                .get_or_init(|| Arc::new(self.new_service(OVERFLOW.into())));
            return (o.clone(), false);
        }
        let entry = self.services.entry(name.into());
        match entry {
            dashmap::mapref::entry::Entry::Occupied(o) => {
                // Lost a race with another thread adding the same service.
                self.service_count.fetch_sub(1, Ordering::Relaxed);
                (o.get().clone(), true)
            }
            dashmap::mapref::entry::Entry::Vacant(v) => {
                let state = Arc::new(self.new_service(v.key().clone()));
                v.insert(state.clone());
                (state, true)
            }
        }
    }

    /// The slow path: finds or makes the series for an event.
    pub(crate) fn resolve(
        &self,
        info: &CallsiteInfo,
        service: Option<&str>,
        event: Option<&str>,
    ) -> Resolved {
        let (svc, mut cacheable) = match service {
            Some(name) => self.service_named(name),
            None => (info.service.clone(), true),
        };
        let level = info.level;
        let Some(event) = event else {
            return Resolved {
                series: self.series_in(&svc, &svc.unstructured, level, UNSTRUCTURED),
                cacheable,
                warn: None,
            };
        };
        let slot = match svc.events.get(event) {
            Some(s) => Some(s.clone()),
            None => match svc.events.entry(event.into()) {
                dashmap::mapref::entry::Entry::Occupied(o) => Some(o.get().clone()),
                dashmap::mapref::entry::Entry::Vacant(v) => {
                    // Reserve under the entry lock so the cap is exact under races.
                    let ok = svc
                        .distinct
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                            (n < self.max_events).then_some(n + 1)
                        })
                        .is_ok();
                    ok.then(|| v.insert(Arc::new(EventSlot::new())).clone())
                }
            },
        };
        match slot {
            Some(slot) => Resolved {
                series: self.series_in(&svc, &slot, level, event),
                cacheable,
                warn: None,
            },
            None => {
                cacheable = false;
                svc.overflow_counter.get().add_shared(1);
                let warn = (!svc.warned.swap(true, Ordering::Relaxed)).then(|| svc.name.clone());
                Resolved {
                    series: self.series_in(&svc, &svc.overflow, level, OVERFLOW),
                    cacheable,
                    warn,
                }
            }
        }
    }

    pub(crate) fn max_events(&self) -> usize {
        self.max_events
    }
}

impl ServiceState {
    fn placeholder() -> Self {
        ServiceState {
            name: "".into(),
            events: DashMap::new(),
            distinct: AtomicUsize::new(0),
            unstructured: EventSlot::new(),
            overflow: EventSlot::new(),
            overflow_counter: SeriesRef(NonNull::dangling()),
            warned: AtomicBool::new(false),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let mut p = *self.series_head.get_mut();
        while !p.is_null() {
            // SAFETY: we own every node; nothing else can reach them now.
            let series = unsafe { Box::from_raw(p) };
            let mut c = series.cells.load(Ordering::Relaxed);
            while !c.is_null() {
                let cell = unsafe { Box::from_raw(c) };
                c = cell.next;
            }
            p = series.next;
        }
    }
}
