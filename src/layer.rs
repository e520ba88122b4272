//! The `Layer` and its per-thread cache from (callsite, service, event) to a counter cell.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Weak};

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
    // A const initializer skips the lazy-init check on every access.
    static CACHE: RefCell<ThreadCache> = const {
        RefCell::new(ThreadCache {
            instances: Vec::new(),
            event: String::new(),
            service: String::new(),
        })
    };
}

/// Everything one thread has resolved, so that a known event costs a few hash
/// lookups and an unshared increment, with no lock and no allocation.
struct ThreadCache {
    instances: Vec<InstanceCache>,
    event: String,
    service: String,
}

struct InstanceCache {
    id: u64,
    shared: Weak<Shared>,
    /// Keyed by the address of the callsite's `&'static Metadata`: unique per
    /// callsite and one word to hash, unlike the fat `Identifier`.
    /// Boxed so that `last` can point at one.
    callsites: FxMap<usize, Box<CallsiteCache>>,
    /// The callsite of the previous event: a tight loop or a burst from one
    /// call site skips the hash lookup.
    last: Option<(usize, std::ptr::NonNull<CallsiteCache>)>,
}

struct CallsiteCache {
    info: Arc<CallsiteInfo>,
    /// Copies of `info`'s fields read on every event, to skip the pointer chase.
    event_idx: Option<usize>,
    service_idx: Option<usize>,
    internal: bool,
    default: ServiceCache,
    services: FxMap<Box<str>, ServiceCache>,
    /// The last (service, event) values this callsite counted, so a repeated
    /// value costs a comparison instead of a copy and a hash lookup.
    memo: Option<Memo>,
}

/// Points at keys of the `CallsiteCache` maps: a key's heap string never
/// moves (entries are never removed; rehashing moves the `Box`, not its
/// contents) and lives as long as the `CallsiteCache` that holds the memo.
#[derive(Clone, Copy)]
struct Memo {
    event: *const str,
    /// `None`: the event had no (non-empty) service field.
    service: Option<*const str>,
    cell: CellRef,
}

impl Memo {
    fn strs<'a>(&self) -> (&'a str, Option<&'a str>) {
        // SAFETY: see `Memo`; callers use the strings only while the cache lives.
        unsafe { (&*self.event, self.service.map(|s| &*s)) }
    }
}

#[derive(Default)]
struct ServiceCache {
    /// This cache's own key in `CallsiteCache::services` (see `Memo`).
    key: Option<*const str>,
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

/// Copies the event and service field values, capped, into reused buffers,
/// unless they equal the memo's.
struct Grab<'a> {
    event_idx: Option<usize>,
    service_idx: Option<usize>,
    event: &'a mut String,
    service: &'a mut String,
    max: usize,
    memo_event: Option<&'a str>,
    memo_service: Option<&'a str>,
    found: Grabbed,
}

/// What `grab` found.
#[derive(Default, Clone, Copy)]
struct Grabbed {
    has_event: bool,
    has_service: bool,
    /// The event value equals the memo's and is not in the event buffer.
    event_hit: bool,
    /// The service value equals the memo's and is not in the service buffer.
    service_hit: bool,
}

impl Grab<'_> {
    fn slot(&mut self, field: &Field) -> Option<&mut String> {
        let i = Some(field.index());
        if i == self.event_idx {
            self.found.has_event = true;
            Some(self.event)
        } else if i == self.service_idx {
            self.found.has_service = true;
            Some(self.service)
        } else {
            None
        }
    }
}

/// Byte equality without a call to `memcmp`: label values are short, and the
/// library call was a fifth of the hot path in `benches/overhead.rs`.
#[inline(always)]
fn same(a: Option<&str>, b: &str) -> bool {
    let Some(a) = a else { return false };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    let word = |s: &[u8], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        u64::from_ne_bytes(w)
    };
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

impl Visit for Grab<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let i = Some(field.index());
        if i == self.event_idx && same(self.memo_event, value) {
            self.found.has_event = true;
            self.found.event_hit = true;
            return;
        }
        if i == self.service_idx && same(self.memo_service, value) {
            self.found.has_service = true;
            self.found.service_hit = true;
            return;
        }
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

/// Reads the label fields of `event`; see `Grab`.
fn grab(
    event_idx: Option<usize>,
    service_idx: Option<usize>,
    shared: &Shared,
    event: &Event<'_>,
    event_buf: &mut String,
    service_buf: &mut String,
    memo: Option<Memo>,
) -> Grabbed {
    if event_idx.is_none() && service_idx.is_none() {
        return Grabbed::default();
    }
    let (memo_event, memo_service) = match memo {
        Some(m) => {
            let (e, s) = m.strs();
            (Some(e), s)
        }
        None => (None, None),
    };
    let mut g = Grab {
        event_idx,
        service_idx,
        event: event_buf,
        service: service_buf,
        max: shared.max_label_len,
        memo_event,
        memo_service,
        found: Grabbed::default(),
    };
    event.record(&mut g);
    let mut found = g.found;
    // An empty service would be no label at all in Prometheus: fall back to the target's.
    if found.has_service && !found.service_hit && g.service.is_empty() {
        found.has_service = false;
    }
    found
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
        last: None,
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
        let key = meta as *const Metadata<'static> as usize;
        let cs: &mut CallsiteCache = match inst.last {
            // SAFETY: `last` points into a Box owned by `inst.callsites`, which
            // never removes entries; no other reference to it is alive here.
            Some((k, ptr)) if k == key => unsafe { &mut *ptr.as_ptr() },
            _ => {
                let cs = inst.callsites.entry(key).or_insert_with(|| {
                    let info = shared.callsite(meta);
                    Box::new(CallsiteCache {
                        event_idx: info.event_field,
                        service_idx: info.service_field,
                        internal: info.internal,
                        info,
                        default: ServiceCache::default(),
                        services: FxMap::default(),
                        memo: None,
                    })
                });
                let cs: &mut CallsiteCache = cs;
                inst.last = Some((key, std::ptr::NonNull::from(&mut *cs)));
                cs
            }
        };
        if cs.internal {
            return None;
        }
        let g = grab(
            cs.event_idx,
            cs.service_idx,
            shared,
            event,
            ebuf,
            sbuf,
            cs.memo,
        );
        if let Some(m) = cs.memo {
            let service_matches = match m.service {
                Some(_) => g.service_hit,
                None => !g.has_service,
            };
            if g.event_hit && service_matches {
                m.cell.incr();
                return None;
            }
            // A partial hit left a value out of its buffer: put it back for the lookups.
            let (e, s) = m.strs();
            if g.event_hit {
                ebuf.clear();
                ebuf.push_str(e);
            }
            if g.service_hit {
                sbuf.clear();
                sbuf.push_str(s.unwrap_or_default());
            }
        }
        let (has_event, has_service) = (g.has_event, g.has_service);
        let svc_cache = if has_service {
            cs.services.get_mut(sbuf.as_str())
        } else {
            Some(&mut cs.default)
        };
        if let Some(c) = svc_cache {
            let service_key = c.key;
            let hit = if has_event {
                c.events
                    .get_key_value(ebuf.as_str())
                    .map(|(k, v)| (Some(&**k as *const str), *v))
            } else {
                c.unstructured.map(|v| (None, v))
            };
            if let Some((event_key, cell)) = hit {
                cell.incr();
                if let Some(event) = event_key {
                    cs.memo = Some(Memo {
                        event,
                        service: service_key,
                        cell,
                    });
                }
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
            let key: Box<str> = sbuf.as_str().into();
            let ptr = &*key as *const str;
            let c = cs.services.entry(key).or_default();
            // An existing entry keeps its original key (the new Box is dropped):
            // only a new entry takes this pointer.
            c.key.get_or_insert(ptr);
            c
        } else {
            &mut cs.default
        };
        let service_key = svc_cache.key;
        if has_event {
            let key: Box<str> = ebuf.as_str().into();
            let event = &*key as *const str;
            svc_cache.events.insert(key, cell);
            cs.memo = Some(Memo {
                event,
                service: service_key,
                cell,
            });
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
    let g = grab(
        info.event_field,
        info.service_field,
        shared,
        event,
        &mut ebuf,
        &mut sbuf,
        None,
    );
    let r = shared.resolve(
        &info,
        g.has_service.then_some(sbuf.as_str()),
        g.has_event.then_some(ebuf.as_str()),
    );
    r.series.get().add_shared(1);
    r.warn
}

#[cfg(test)]
mod tests {
    use super::same;
    use crate::LogMetrics;
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
        let mut cells = Vec::new();
        handle.shared.for_each_series(|s| {
            if s.event.as_deref() == Some("churn") {
                cells.push(s.cell_count());
            }
        });
        // One thread at a time: one cell, reused by each new thread.
        assert_eq!(cells, [1]);
        assert_eq!(handle.count("info", "robustmq", "churn"), Some(50));
    }

    #[test]
    fn same_matches_slice_equality() {
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
            "x".repeat(40).leak(),
        ];
        for a in words {
            assert!(!same(None, a));
            for b in words {
                assert_eq!(same(Some(a), b), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
