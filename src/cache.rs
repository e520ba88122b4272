//! The per-thread cache: callsite -> label values -> counter cell.
//!
//! A known event costs a thread-local access, a comparison with the label
//! values its callsite counted last time (the memo), and an increment of a
//! cell no other thread writes: no lock, no shared cache line, no allocation.
//!
//! Everything here is safe code: entries are found by index (`IndexMap`
//! positions, which never change because nothing is ever removed), and cells
//! are `Arc`s, so a cache that outlives its instance still holds valid cells.
//!
//! Why `std::thread_local!` and not `thread_local::ThreadLocal` per instance
//! (as tracing-subscriber keeps span stacks): `ThreadLocal::get_or` panics when
//! called from a thread-local destructor after the crate's own thread guard
//! is gone, and events can be logged during thread exit. `LocalKey::try_with`
//! reports that case instead, and the event is counted without the cache.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Weak};

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Metadata};

use crate::instance::{CallsiteInfo, Instance};
use crate::labels::{truncate, Capped};
use crate::series::Cell;

thread_local! {
    // A const initializer skips the lazy-initialisation check on every access.
    static CACHE: RefCell<ThreadCache> = const {
        RefCell::new(ThreadCache {
            instances: Vec::new(),
            callsites: IndexMap::with_hasher(FxBuildHasher),
            last: None,
            event: String::new(),
            service: String::new(),
        })
    };
}

/// Counts one event of `instance`. Returns the service whose event cap this
/// event reached for the first time, for the caller to warn about.
pub(crate) fn count(instance: &Arc<Instance>, event: &Event<'_>) -> Option<Arc<str>> {
    let cached = CACHE.try_with(|cache| match cache.try_borrow_mut() {
        Ok(mut cache) => cache.count(instance, event),
        // Re-entered: an event logged while this thread was counting one
        // (say, by a `Debug` impl of a field value).
        Err(_) => Err(Uncached),
    });
    match cached {
        Ok(Ok(cap_reached)) => cap_reached,
        // The cache is gone (an event logged during thread exit) or busy.
        Ok(Err(Uncached)) | Err(_) => count_uncached(instance, event),
    }
}

/// The cache could not count this event; count it without the cache.
struct Uncached;

/// Counts with a shared atomic add on the series: exact, a little slower.
fn count_uncached(instance: &Instance, event: &Event<'_>) -> Option<Arc<str>> {
    let info = instance.callsite(event.metadata());
    if info.internal {
        return None;
    }
    let (mut event_buf, mut service_buf) = (String::new(), String::new());
    let found = read_label_fields(
        &info,
        instance.max_label_len,
        &Memo::default(),
        event,
        &mut event_buf,
        &mut service_buf,
    );
    let placed = instance.place(
        &info,
        (found.service != Found::Absent).then_some(service_buf.as_str()),
        (found.event != Found::Absent).then_some(event_buf.as_str()),
    );
    if let Some(series) = instance.series.get(placed.series) {
        series.add_uncached(1);
    }
    placed.cap_reached
}

/// Everything one thread has resolved, for every instance it counted for.
struct ThreadCache {
    /// Instances this thread counted for: their cells are released at thread
    /// exit, and the entries of dropped ones forgotten.
    instances: Vec<(u64, Weak<Instance>)>,
    /// Keyed by instance id and the address of the callsite's
    /// `&'static Metadata`: unique per callsite and one word to hash, unlike
    /// the fat `Identifier`.
    callsites: IndexMap<(u64, usize), CallsiteCache, FxBuildHasher>,
    /// (key, position) of the previous event's callsite: a burst from one
    /// call site skips the hash lookup.
    last: Option<((u64, usize), usize)>,
    /// Reused buffers for the event and service values of the current event.
    event: String,
    service: String,
}

struct CallsiteCache {
    info: Arc<CallsiteInfo>,
    /// Events without a service value: the callsite's own service.
    own_service: ServiceCells,
    /// Events with a service value, by that value.
    services: IndexMap<Box<str>, ServiceCells, FxBuildHasher>,
    memo: Memo,
}

#[derive(Default)]
struct ServiceCells {
    /// Events without an event value.
    no_event: Option<Arc<Cell>>,
    events: IndexMap<Box<str>, Arc<Cell>, FxBuildHasher>,
}

/// The label values a callsite counted last, and their cell, so that a
/// repeated value costs a comparison instead of a copy and two hash lookups.
/// Owned copies rather than positions in the maps: a hit then reads the
/// values and the cell directly, without indexing.
#[derive(Default)]
struct Memo {
    /// `None` until the callsite counts an event that has an event value.
    cell: Option<Arc<Cell>>,
    event: String,
    /// Whether `service` holds a service value (else: the callsite's own service).
    has_service: bool,
    service: String,
}

impl Memo {
    fn set(&mut self, cell: &Arc<Cell>, service: Option<&str>, event: &str) {
        if !self.cell.as_ref().is_some_and(|c| Arc::ptr_eq(c, cell)) {
            self.cell = Some(cell.clone());
        }
        self.event.clear();
        self.event.push_str(event);
        self.has_service = service.is_some();
        self.service.clear();
        self.service.push_str(service.unwrap_or_default());
    }

    fn event(&self) -> Option<&str> {
        self.cell.is_some().then_some(self.event.as_str())
    }

    fn service(&self) -> Option<&str> {
        (self.cell.is_some() && self.has_service).then_some(self.service.as_str())
    }
}

impl CallsiteCache {
    fn new(info: Arc<CallsiteInfo>) -> Self {
        Self {
            info,
            own_service: ServiceCells::default(),
            services: IndexMap::default(),
            memo: Memo::default(),
        }
    }

    /// Counts an event with these label values (after a memo miss).
    fn count_values(
        &mut self,
        instance: &Instance,
        service: Option<&str>,
        event: Option<&str>,
    ) -> Option<Arc<str>> {
        let CallsiteCache {
            info,
            own_service,
            services,
            memo,
        } = self;
        let known = match service {
            None => Some(&*own_service),
            Some(name) => services.get(name),
        };
        if let Some(cells) = known {
            let cell = match event {
                Some(e) => cells.events.get(e),
                None => cells.no_event.as_ref(),
            };
            if let Some(cell) = cell {
                cell.increment();
                if let Some(e) = event {
                    memo.set(cell, service, e);
                }
                return None;
            }
        }
        // First sight of these values at this callsite on this thread.
        let placed = instance.place(info, service, event);
        let series = instance.series.get(placed.series)?;
        if !placed.cacheable {
            series.add_uncached(1);
            return placed.cap_reached;
        }
        let cell = series.claim_cell();
        cell.increment();
        let cells = match service {
            None => own_service,
            Some(name) => services.entry(name.into()).or_default(),
        };
        match event {
            Some(e) => {
                memo.set(&cell, service, e);
                cells.events.insert(e.into(), cell);
            }
            None => cells.no_event = Some(cell),
        }
        placed.cap_reached
    }

    fn release_cells(&self) {
        for cells in std::iter::once(&self.own_service).chain(self.services.values()) {
            cells.no_event.iter().for_each(|c| c.release());
            cells.events.values().for_each(|c| c.release());
        }
    }
}

impl ThreadCache {
    /// The position of a callsite's cache, made on first sight.
    #[cold]
    fn find_callsite(
        &mut self,
        instance: &Arc<Instance>,
        meta: &'static Metadata<'static>,
        key: (u64, usize),
    ) -> usize {
        if let Some(pos) = self.callsites.get_index_of(&key) {
            self.last = Some((key, pos));
            return pos;
        }
        if !self.instances.iter().any(|(id, _)| *id == instance.id) {
            // Forget dropped instances, so a process that builds many stays small.
            let ThreadCache {
                instances,
                callsites,
                ..
            } = self;
            instances.retain(|(_, i)| i.strong_count() > 0);
            callsites.retain(|(id, _), _| instances.iter().any(|(i, _)| i == id));
            instances.push((instance.id, Arc::downgrade(instance)));
        }
        let (pos, _) = self
            .callsites
            .insert_full(key, CallsiteCache::new(instance.callsite(meta)));
        self.last = Some((key, pos));
        pos
    }

    fn count(
        &mut self,
        instance: &Arc<Instance>,
        event: &Event<'_>,
    ) -> Result<Option<Arc<str>>, Uncached> {
        let key = (
            instance.id,
            event.metadata() as *const Metadata<'static> as usize,
        );
        let pos = match self.last {
            Some((last, pos)) if last == key => pos,
            _ => self.find_callsite(instance, event.metadata(), key),
        };
        let ThreadCache {
            callsites,
            event: event_buf,
            service: service_buf,
            ..
        } = self;
        let (_, callsite) = callsites.get_index_mut(pos).ok_or(Uncached)?;
        if callsite.info.internal {
            return Ok(None);
        }
        let memo = &callsite.memo;
        let found = read_label_fields(
            &callsite.info,
            instance.max_label_len,
            memo,
            event,
            event_buf,
            service_buf,
        );
        if let Some(cell) = &memo.cell {
            let service_hit = if memo.has_service {
                found.service == Found::SameAsMemo
            } else {
                found.service == Found::Absent
            };
            if found.event == Found::SameAsMemo && service_hit {
                cell.increment();
                return Ok(None);
            }
        }
        Ok(callsite.count_after_memo_miss(instance, found, event_buf, service_buf))
    }
}

impl CallsiteCache {
    /// Out of line: the memo hit above stays small, with few registers to save.
    #[cold]
    #[inline(never)]
    fn count_after_memo_miss(
        &mut self,
        instance: &Instance,
        found: FoundFields,
        event_buf: &mut String,
        service_buf: &mut String,
    ) -> Option<Arc<str>> {
        // A partial hit left a value out of its buffer: put it back.
        if found.event == Found::SameAsMemo {
            event_buf.clear();
            event_buf.push_str(&self.memo.event);
        }
        if found.service == Found::SameAsMemo {
            service_buf.clear();
            service_buf.push_str(&self.memo.service);
        }
        self.count_values(
            instance,
            (found.service != Found::Absent).then_some(service_buf.as_str()),
            (found.event != Found::Absent).then_some(event_buf.as_str()),
        )
    }
}

impl Drop for ThreadCache {
    fn drop(&mut self) {
        // Hand this thread's cells back so that a later thread continues
        // their counts instead of adding cells: memory stays bounded by the
        // threads alive at once. A dropped instance needs nothing back.
        for ((id, _), callsite) in &self.callsites {
            let alive = self
                .instances
                .iter()
                .any(|(i, instance)| i == id && instance.strong_count() > 0);
            if alive {
                callsite.release_cells();
            }
        }
    }
}

/// Where a label field's value ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// No such field, or an empty service value (no label at all in Prometheus).
    Absent,
    /// Copied, cut to the length limit, into its buffer.
    InBuffer,
    /// Equal to the memo's value; the buffer was not touched.
    SameAsMemo,
}

#[derive(Clone, Copy)]
struct FoundFields {
    event: Found,
    service: Found,
}

/// Reads the event and service fields of `event` into the buffers, unless
/// they equal the memo's values.
fn read_label_fields(
    info: &CallsiteInfo,
    max_len: usize,
    memo: &Memo,
    event: &Event<'_>,
    event_buf: &mut String,
    service_buf: &mut String,
) -> FoundFields {
    let mut reader = LabelFieldReader {
        event_field: info.event_field.unwrap_or(usize::MAX),
        service_field: info.service_field.unwrap_or(usize::MAX),
        memo_event: memo.event(),
        memo_service: memo.service(),
        event_buf,
        service_buf,
        max_len,
        found: FoundFields {
            event: Found::Absent,
            service: Found::Absent,
        },
    };
    if info.event_field.is_some() || info.service_field.is_some() {
        event.record(&mut reader);
    }
    let mut found = reader.found;
    if found.service == Found::InBuffer && reader.service_buf.is_empty() {
        found.service = Found::Absent;
    }
    found
}

struct LabelFieldReader<'a> {
    /// Field indices; `usize::MAX` when the callsite has no such field.
    event_field: usize,
    service_field: usize,
    memo_event: Option<&'a str>,
    memo_service: Option<&'a str>,
    event_buf: &'a mut String,
    service_buf: &'a mut String,
    max_len: usize,
    found: FoundFields,
}

impl LabelFieldReader<'_> {
    /// Which label field `field` is, if any. Most fields of an event are not
    /// label fields, and every one of them passes through here.
    #[inline(always)]
    fn label(&self, field: &Field) -> Option<Label> {
        let index = field.index();
        if index == self.event_field {
            Some(Label::Event)
        } else if index == self.service_field {
            Some(Label::Service)
        } else {
            None
        }
    }

    // Out of line, so that `record_str` for the many fields that are not
    // labels stays a comparison and a return (saving and restoring the
    // registers a copy needs was 10 instructions per field in callgrind).
    #[inline(never)]
    fn compare_or_store(&mut self, label: Label, value: &str) {
        let (memo, found) = match label {
            Label::Event => (self.memo_event, &mut self.found.event),
            Label::Service => (self.memo_service, &mut self.found.service),
        };
        if bytes_equal(memo, value) {
            *found = Found::SameAsMemo;
        } else {
            self.store(label, value);
        }
    }

    /// Out of line again: a copy needs registers a memo hit does not.
    #[cold]
    #[inline(never)]
    fn store(&mut self, label: Label, value: &str) {
        let (buf, found) = match label {
            Label::Event => (&mut *self.event_buf, &mut self.found.event),
            Label::Service => (&mut *self.service_buf, &mut self.found.service),
        };
        *found = Found::InBuffer;
        buf.clear();
        buf.push_str(truncate(value, self.max_len));
    }

    #[inline(never)]
    fn store_debug(&mut self, label: Label, value: &dyn fmt::Debug) {
        let (buf, found) = match label {
            Label::Event => (&mut *self.event_buf, &mut self.found.event),
            Label::Service => (&mut *self.service_buf, &mut self.found.service),
        };
        *found = Found::InBuffer;
        buf.clear();
        // An error only means the value was cut at `max_len`.
        let _ = write!(
            Capped {
                out: buf,
                max: self.max_len
            },
            "{value:?}"
        );
    }
}

#[derive(Clone, Copy)]
enum Label {
    Event,
    Service,
}

impl Visit for LabelFieldReader<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(label) = self.label(field) {
            self.compare_or_store(label, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some(label) = self.label(field) {
            self.store_debug(label, &value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some(label) = self.label(field) {
            self.store_debug(label, &value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some(label) = self.label(field) {
            self.store_debug(label, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(label) = self.label(field) {
            self.store_debug(label, value);
        }
    }
}

/// Byte equality without a call to `memcmp`: label values are short, and the
/// library call was a fifth of the hot path in `benches/overhead.rs`.
#[inline(always)]
fn bytes_equal(a: Option<&str>, b: &str) -> bool {
    let Some(a) = a else { return false };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() < 8 {
        return a == b;
    }
    let word = |s: &[u8], i: usize| {
        let mut w = [0u8; 8];
        if let Some(bytes) = s.get(i..i + 8) {
            w.copy_from_slice(bytes);
        }
        u64::from_ne_bytes(w)
    };
    let n = a.len();
    let mut i = 0;
    while i + 8 <= n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // The last, possibly overlapping, word covers the tail.
    word(a, n - 8) == word(b, n - 8)
}

#[cfg(test)]
mod tests {
    use super::bytes_equal;
    use crate::builder::LogMetrics;
    use tracing_subscriber::prelude::*;

    #[test]
    fn exited_threads_hand_their_cells_to_new_threads() {
        let (layer, handle) = LogMetrics::builder().build().unwrap();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        for _ in 0..50 {
            let d = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&d, || tracing::info!(event = "churn", "x"))
            })
            .join()
            .unwrap();
        }
        let cells: Vec<usize> = handle
            .instance
            .series
            .iter()
            .filter(|s| s.event.as_deref() == Some("churn"))
            .map(|s| s.cell_count())
            .collect();
        // One thread at a time: one cell, reused by each new thread.
        assert_eq!(cells, [1]);
        assert_eq!(handle.count("info", "robustmq", "churn"), Some(50));
    }

    #[test]
    fn bytes_equal_matches_slice_equality() {
        let long = "x".repeat(40);
        let words = [
            "",
            "a",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefghj",
            "connection_accepted",
            "connection_acceptee",
            "ünïcødé",
            "日本語日本語",
            long.as_str(),
        ];
        for a in words {
            assert!(!bytes_equal(None, a));
            for b in words {
                assert_eq!(bytes_equal(Some(a), b), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
