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
            last: (NO_KEY, 0),
            buffers: Buffers {
                event: String::new(),
                service: String::new(),
            },
        })
    };
}

/// A callsite key no callsite has: instance ids start at 1.
const NO_KEY: (u64, usize) = (0, 0);

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
    let mut buffers = Buffers::default();
    let found = read_label_fields(
        &Reading::new(&info, instance.max_label_len),
        event,
        &mut buffers,
    );
    let placed = instance.place(
        &info,
        (found.service != Found::Absent).then_some(buffers.service.as_str()),
        (found.event != Found::Absent).then_some(buffers.event.as_str()),
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
    /// (key, position) of the previous event's callsite, [`NO_KEY`] before
    /// the first: a burst from one call site skips the hash lookup.
    last: ((u64, usize), usize),
    buffers: Buffers,
}

/// Reused buffers for the event and service values of the current event.
#[derive(Default)]
struct Buffers {
    event: String,
    service: String,
}

/// The indices of a callsite's label fields, `usize::MAX` for none, and a
/// mask with bit `index % 64` set for each: the visitor tests a field's bit
/// first, so a field that is not a label costs one test.
#[derive(Clone, Copy)]
struct Fields {
    mask: u64,
    event: usize,
    service: usize,
}

impl Fields {
    fn of(info: &CallsiteInfo) -> Self {
        let bit = |index: Option<usize>| index.map_or(0, field_bit);
        Self {
            mask: bit(info.event_field) | bit(info.service_field),
            event: info.event_field.unwrap_or(usize::MAX),
            service: info.service_field.unwrap_or(usize::MAX),
        }
    }

    fn any(self) -> bool {
        self.mask != 0
    }
}

/// The bit of a field index in [`Fields::mask`]; indices 64 apart share one,
/// so a set bit is confirmed by comparing the index.
#[inline(always)]
fn field_bit(index: usize) -> u64 {
    // Truncating is the point: the shift wraps at 64.
    1u64.wrapping_shl(index as u32)
}

struct CallsiteCache {
    /// For an internal callsite, no field is read and the memo never hits:
    /// the memo-miss path tests `info.internal`, the hit path does not.
    reading: Reading,
    info: Arc<CallsiteInfo>,
    /// Events without a service value: the callsite's own service.
    own_service: ServiceCells,
    /// Events with a service value, by that value.
    services: IndexMap<Box<str>, ServiceCells, FxBuildHasher>,
}

/// What reading a callsite's label fields needs besides the event: the
/// visitor holds one pointer to it instead of a copy of each.
struct Reading {
    fields: Fields,
    max_len: usize,
    memo: Memo,
}

impl Reading {
    fn new(info: &CallsiteInfo, max_len: usize) -> Self {
        Self {
            fields: Fields::of(info),
            max_len,
            memo: Memo::default(),
        }
    }
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
struct Memo {
    /// A cell of no series until the callsite counts an event through its
    /// cache (an `Arc` rather than an `Option` of one: the hit path then
    /// has no test for `None`). An internal callsite's events hit it and
    /// count nowhere.
    cell: Arc<Cell>,
    /// What reading the fields of an event with the memo's values finds:
    /// `SameAsMemo` for a value the memo holds, `Absent` for none. An event
    /// hits the memo when its fields find exactly this.
    hit: FoundFields,
    event: String,
    service: String,
}

impl Default for Memo {
    fn default() -> Self {
        Self {
            cell: Arc::new(Cell::unlisted()),
            // Nothing compares equal to an empty memo: a hit is impossible.
            hit: FoundFields {
                event: Found::Unset,
                service: Found::Unset,
            },
            event: String::new(),
            service: String::new(),
        }
    }
}

impl Memo {
    fn set(&mut self, cell: &Arc<Cell>, service: Option<&str>, event: Option<&str>) {
        if !Arc::ptr_eq(&self.cell, cell) {
            self.cell = cell.clone();
        }
        let keep = |held: &mut String, value: Option<&str>| {
            held.clear();
            match value {
                Some(v) => {
                    held.push_str(v);
                    Found::SameAsMemo
                }
                None => Found::Absent,
            }
        };
        self.hit = FoundFields {
            event: keep(&mut self.event, event),
            service: keep(&mut self.service, service),
        };
    }
}

impl CallsiteCache {
    fn new(info: Arc<CallsiteInfo>, max_len: usize) -> Self {
        let mut reading = Reading::new(&info, max_len);
        if info.internal {
            // Reads no field, finds both absent: a hit on a cell of no series.
            reading.fields = Fields {
                mask: 0,
                event: usize::MAX,
                service: usize::MAX,
            };
            reading.memo.hit = FoundFields {
                event: Found::Absent,
                service: Found::Absent,
            };
        }
        Self {
            reading,
            info,
            own_service: ServiceCells::default(),
            services: IndexMap::default(),
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
            reading: Reading { memo, .. },
            ..
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
                memo.set(cell, service, event);
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
        memo.set(&cell, service, event);
        let cells = match service {
            None => own_service,
            Some(name) => services.entry(name.into()).or_default(),
        };
        match event {
            Some(e) => {
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
            self.last = (key, pos);
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
        let (pos, _) = self.callsites.insert_full(
            key,
            CallsiteCache::new(instance.callsite(meta), instance.max_label_len),
        );
        self.last = (key, pos);
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
        let ((id, meta), pos) = self.last;
        // One branch for both halves of the key.
        let pos = if (id ^ key.0) | (meta ^ key.1) as u64 == 0 {
            pos
        } else {
            self.find_callsite(instance, event.metadata(), key)
        };
        let ThreadCache {
            callsites, buffers, ..
        } = self;
        let (_, callsite) = callsites.get_index_mut(pos).ok_or(Uncached)?;
        let found = read_label_fields(&callsite.reading, event, buffers);
        let memo = &callsite.reading.memo;
        if found == memo.hit {
            memo.cell.increment();
            return Ok(None);
        }
        Ok(callsite.count_after_memo_miss(instance, found, buffers))
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
        buffers: &mut Buffers,
    ) -> Option<Arc<str>> {
        if self.info.internal {
            return None;
        }
        // A partial hit left a value out of its buffer: put it back.
        if found.event == Found::SameAsMemo {
            buffers.event.clear();
            buffers.event.push_str(&self.reading.memo.event);
        }
        if found.service == Found::SameAsMemo {
            buffers.service.clear();
            buffers.service.push_str(&self.reading.memo.service);
        }
        self.count_values(
            instance,
            (found.service != Found::Absent).then_some(buffers.service.as_str()),
            (found.event != Found::Absent).then_some(buffers.event.as_str()),
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
#[repr(u8)]
enum Found {
    /// No such field, or an empty service value (no label at all in Prometheus).
    Absent,
    /// Copied, cut to the length limit, into its buffer.
    InBuffer,
    /// Equal to the memo's value; the buffer was not touched.
    SameAsMemo,
    /// Only in the hit of a memo that has counted nothing yet: no event's
    /// fields find it.
    Unset,
}

/// `repr(C)` and compared as one `u16`: the memo test is then one load and
/// one comparison instead of two of each.
#[derive(Clone, Copy, Eq)]
#[repr(C)]
struct FoundFields {
    event: Found,
    service: Found,
}

impl FoundFields {
    fn packed(self) -> u16 {
        u16::from_ne_bytes([self.event as u8, self.service as u8])
    }
}

impl PartialEq for FoundFields {
    fn eq(&self, other: &Self) -> bool {
        self.packed() == other.packed()
    }
}

/// Reads the event and service fields of `event` into the buffers, unless
/// they equal the memo's values.
#[inline(always)]
fn read_label_fields(reading: &Reading, event: &Event<'_>, buffers: &mut Buffers) -> FoundFields {
    let mut reader = LabelFieldReader {
        mask: reading.fields.mask,
        reading,
        buffers,
        found: FoundFields {
            event: Found::Absent,
            service: Found::Absent,
        },
    };
    if reading.fields.any() {
        event.record(&mut reader);
    }
    reader.found
}

struct LabelFieldReader<'a> {
    /// A copy of `reading.fields.mask`, the one thing every field reads.
    mask: u64,
    reading: &'a Reading,
    buffers: &'a mut Buffers,
    found: FoundFields,
}

impl LabelFieldReader<'_> {
    /// Which label field `field` is, if any. Most fields of an event are not
    /// label fields, and every one of them passes through here: one bit test.
    #[inline(always)]
    fn label(&self, field: &Field) -> Option<Label> {
        let index = field.index();
        let fields = &self.reading.fields;
        if self.mask & field_bit(index) == 0 {
            None
        } else if index == fields.event {
            Some(Label::Event)
        } else if index == fields.service {
            Some(Label::Service)
        } else {
            None
        }
    }

    // Out of line, so that `record_str` for the many fields that are not
    // labels stays a test and a return (saving and restoring the registers a
    // copy needs was 10 instructions per field in callgrind). One copy per
    // label (`SERVICE`): the label is known in the code, not picked at run time.
    #[inline(never)]
    fn compare_or_store<const SERVICE: bool>(&mut self, value: &str) {
        let label = if SERVICE {
            Label::Service
        } else {
            Label::Event
        };
        if value.len() > 32 {
            self.compare_or_store_long(label, value);
        } else {
            self.compare_or_store_here(label, value);
        }
    }

    /// Values over 32 bytes, out of line: their loop needs a register that
    /// the short values' comparison does not, saved on every call.
    #[cold]
    #[inline(never)]
    fn compare_or_store_long(&mut self, label: Label, value: &str) {
        self.compare_or_store_here(label, value);
    }

    #[inline(always)]
    fn compare_or_store_here(&mut self, label: Label, value: &str) {
        let memo = &self.reading.memo;
        let (held, found, memo_found) = match label {
            Label::Event => (&memo.event, &mut self.found.event, memo.hit.event),
            Label::Service => (&memo.service, &mut self.found.service, memo.hit.service),
        };
        if memo_found == Found::SameAsMemo && bytes_equal(held, value) {
            *found = Found::SameAsMemo;
        } else {
            self.store(label, value);
        }
    }

    /// Out of line again: a copy needs registers a memo hit does not.
    #[cold]
    #[inline(never)]
    fn store(&mut self, label: Label, value: &str) {
        let max = self.reading.max_len;
        self.buffer(label).push_str(truncate(value, max));
        self.stored(label);
    }

    /// Out of line and by value: taking the address of the value in the
    /// visitor would make every field, label or not, spill it to the stack.
    #[inline(never)]
    fn store_value<T: fmt::Debug>(&mut self, label: Label, value: T) {
        self.store_debug(label, &value);
    }

    #[inline(never)]
    fn store_debug(&mut self, label: Label, value: &dyn fmt::Debug) {
        let max = self.reading.max_len;
        let buf = self.buffer(label);
        // An error only means the value was cut at `max_len`.
        let _ = write!(Capped { out: buf, max }, "{value:?}");
        self.stored(label);
    }

    fn buffer(&mut self, label: Label) -> &mut String {
        let buf = match label {
            Label::Event => &mut self.buffers.event,
            Label::Service => &mut self.buffers.service,
        };
        buf.clear();
        buf
    }

    /// Marks a value as stored; an empty service value is no service value.
    fn stored(&mut self, label: Label) {
        match label {
            Label::Event => self.found.event = Found::InBuffer,
            Label::Service if self.buffers.service.is_empty() => self.found.service = Found::Absent,
            Label::Service => self.found.service = Found::InBuffer,
        }
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
            match label {
                Label::Event => self.compare_or_store::<false>(value),
                Label::Service => self.compare_or_store::<true>(value),
            }
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some(label) = self.label(field) {
            self.store_value(label, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some(label) = self.label(field) {
            self.store_value(label, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some(label) = self.label(field) {
            self.store_value(label, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(label) = self.label(field) {
            self.store_debug(label, value);
        }
    }
}

/// Byte equality without a call to `memcmp`: label values are short, and the
/// library call was a fifth of the hot path in `benches/overhead.rs` (and
/// the registers saved around a call cost the memo hit 10 instructions).
/// Blocks of 16 bytes, then the last 16 bytes of the value, which may overlap
/// the ones before; shorter values compare two overlapping words, halves or
/// bytes.
#[inline(always)]
fn bytes_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n > 32 {
        return long_bytes_equal(a, b);
    }
    if n >= 16 {
        // The first and the last 16 bytes, one test for both.
        let first = |s: &[u8]| s.first_chunk::<16>().map_or(0, |w| u128::from_ne_bytes(*w));
        let last = |s: &[u8]| s.last_chunk::<16>().map_or(0, |w| u128::from_ne_bytes(*w));
        return ((first(a) ^ first(b)) | (last(a) ^ last(b))) == 0;
    }
    if n >= 8 {
        let word = |s: &[u8], at: usize| {
            s.get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, u64::from_ne_bytes)
        };
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if n >= 4 {
        let half = |s: &[u8], at: usize| {
            s.get(at..at + 4)
                .and_then(|h| <[u8; 4]>::try_from(h).ok())
                .map_or(0, u32::from_ne_bytes)
        };
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    // 0 to 3 bytes: the first, middle and last byte are all of them.
    let byte = |s: &[u8], at: usize| s.get(at).copied();
    n == 0
        || (byte(a, 0) == byte(b, 0)
            && byte(a, n / 2) == byte(b, n / 2)
            && byte(a, n - 1) == byte(b, n - 1))
}

/// [`bytes_equal`] for values over 32 bytes: blocks of 16, then the last 16.
fn long_bytes_equal(a: &[u8], b: &[u8]) -> bool {
    let wide = |w: &[u8]| <[u8; 16]>::try_from(w).map_or(0, u128::from_ne_bytes);
    let last = |s: &[u8]| s.last_chunk::<16>().map(|w| u128::from_ne_bytes(*w));
    let blocks = a.chunks_exact(16).zip(b.chunks_exact(16));
    blocks.into_iter().all(|(x, y)| wide(x) == wide(y)) && last(a) == last(b)
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
    fn internal_events_are_not_counted_on_the_memo_hit_path_either() {
        let (layer, handle) = LogMetrics::builder().build().unwrap();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..3 {
                // The second and third take the memo-hit path.
                tracing::info!(target: "robustmq_log_metrics::internal", event = "own", "x");
                tracing::info!(event = "other", "x");
            }
        });
        assert_eq!(handle.count("info", "robustmq", "own"), None);
        assert_eq!(handle.count("info", "robustmq", "other"), Some(3));
    }

    #[test]
    fn bytes_equal_matches_slice_equality() {
        let long = "x".repeat(40);
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ac",
            "abc",
            "abd",
            "xbc",
            "axc",
            "abcd",
            "abce",
            "abcde",
            "abcdf",
            "xbcde",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefghj",
            "connection_accepted",
            "connection_acceptee",
            "xonnection_accepted",
            "connection_xccepted",
            "abcdefghijklmnopabcdefghijklmnop",
            "abcdefghijklmnopabcdefghijklmnoq",
            "abcdefghijklmnopabcdefghijklmnopq",
            "abcdefghijklmnopabcdefghijklmnopr",
            "xbcdefghijklmnopabcdefghijklmnopq",
            "ünïcødé",
            "日本語日本語",
            long.as_str(),
        ];
        for a in words {
            for b in words {
                assert_eq!(bytes_equal(a, b), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
