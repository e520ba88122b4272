//! Zero heap allocations per event after warm-up, for callsites and event
//! values seen before: counted with a counting global allocator (a count, not a time).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::prelude::*;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);
thread_local! { static ON_MEASURING_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) }; }

// Counts only the measuring thread's allocations inside its window: libtest's
// own main thread allocates now and then while the test runs (seen as 4 stray
// allocations in one run of four before this filter).
// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed)
            && ON_MEASURING_THREAD.try_with(|m| m.get()).unwrap_or(false)
        {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed)
            && ON_MEASURING_THREAD.try_with(|m| m.get()).unwrap_or(false)
        {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Debug)]
#[allow(dead_code)] // read through Debug only
struct Code(u32);

fn log_all(i: u64) {
    tracing::info!(target: "app::mqtt", event = "connection_accepted", protocol = "tcp", connection_id = i, remote_addr = "10.0.0.1:1883", "accepted");
    tracing::error!(target: "app::journal", event = "storage_error", error_msg = "disk full", "storage");
    tracing::warn!(target: "app::mqtt", "legacy format line {}", i);
    tracing::info!(
        service = "placement-center",
        event = "leader_elected",
        "own service field"
    );
    tracing::debug!(event = ?Code(7), "debug-formatted event value");
    tracing::info!(event = 42u64, "numeric event value");
    let span = tracing::info_span!("outer", client = i);
    let _g = span.enter();
    tracing::error!(event = "in_span", "inside a span");
}

#[test]
fn a_seen_callsite_and_value_allocates_nothing() {
    let (layer, handle) = LogMetrics::builder()
        .service_for_target("app::mqtt", "mqtt-broker")
        .service_for_target("app::journal", "journal-server")
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..10 {
            log_all(i);
        }
        ON_MEASURING_THREAD.with(|m| m.set(true));
        COUNTING.store(true, Ordering::SeqCst);
        for i in 0..10_000 {
            log_all(i);
        }
        COUNTING.store(false, Ordering::SeqCst);
    });
    let allocs = ALLOCS.load(Ordering::SeqCst);
    // The span (the registry stores span data) allocates nothing either once
    // its slab slot is warm, so the whole loop must be allocation-free.
    assert_eq!(
        allocs, 0,
        "{allocs} allocations in 10,000 rounds of known events"
    );
    assert_eq!(
        handle.count("info", "mqtt-broker", "connection_accepted"),
        Some(10_010)
    );
    assert_eq!(handle.count("error", "robustmq", "in_span"), Some(10_010));
    assert_eq!(handle.total_events(), 7 * 10_010);
}
