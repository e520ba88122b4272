//! Zero heap allocations per event after warm-up, for callsites and event
//! values seen before, and per line through the appender counters: counted
//! with a counting global allocator (a count, not a time).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCS.with(|a| a.set(0));
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    ALLOCS.with(Cell::get)
}

fn count_one() {
    if MEASURING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    }
}

// Counts only the measuring thread's allocations inside its window, so that
// libtest's own main thread (seen as 4 stray allocations in one run of four
// before this filter) and tests running beside it never count.
// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
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
    tracing::error!(target: "app::journal", event = "storage_error", error = "disk full", "storage");
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
    let allocs = tracing::subscriber::with_default(subscriber, || {
        for i in 0..10 {
            log_all(i);
        }
        allocations(|| {
            for i in 0..10_000 {
                log_all(i);
            }
        })
    });
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

/// A writer that takes every byte and keeps none.
struct Null;

impl Write for Null {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_counted_line_allocates_nothing() {
    let (_layer, handle) = LogMetrics::builder().build().unwrap();
    let appender = handle.appender("console").unwrap();
    let mut owned = appender.writer(Null);
    let maker = appender.make_writer(|| Null);
    let line = b"2026-12-01T20:00:00Z  INFO mqtt_broker: published event=\"message_published\"\n";
    let allocs = allocations(|| {
        for i in 0..10_000u64 {
            owned.write_all(line).unwrap();
            maker.make_writer().write_all(line).unwrap();
            writeln!(owned, "line {i}").unwrap();
        }
    });
    assert_eq!(allocs, 0, "{allocs} allocations in 30,000 counted lines");
    assert_eq!(appender.lines(), 30_000);
    // A failed write (an error built from its kind) allocates nothing either.
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Ok(0)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut broken = appender.writer(Broken);
    let allocs = allocations(|| {
        for _ in 0..1_000 {
            assert!(broken.write_all(line).is_err());
        }
    });
    assert_eq!(allocs, 0, "{allocs} allocations in 1,000 failed lines");
    assert_eq!(appender.dropped(), 1_000);
}

/// A layer that does nothing: what the line limit in front of it costs.
struct Discard;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Discard {}

#[test]
fn the_line_limit_allocates_nothing_for_a_known_call_site() {
    use robustmq_log_metrics::{LineLimit, ManualClock};
    use tracing_subscriber::Layer;

    let (layer, handle) = LogMetrics::builder().build().unwrap();
    let console = handle.appender("console").unwrap();
    let clock = ManualClock::new();
    let limit = LineLimit::builder()
        .burst(1_000)
        .refill(1)
        .appender(&console)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(Discard.with_filter(limit.clone()));
    let allocs = tracing::subscriber::with_default(subscriber, || {
        // Warm-up: every call site's node, a suppressed run and the lift that
        // ends it (its summary's call site registers on first use).
        for i in 0..1_001 {
            log_all(i);
        }
        // Quiet long enough for the whole burst to come back.
        clock.advance(std::time::Duration::from_secs(2_000));
        log_all(0);
        // 999 rounds within the budget, then 9,001 over it. Not measured: the
        // lift after a run (a cold path once per run, which logs its summary
        // through `tracing`, whose callsite registry may allocate while another
        // thread installs a new dispatcher, as other tests here do).
        allocations(|| {
            for i in 0..10_000 {
                log_all(i);
            }
        })
    });
    assert_eq!(
        allocs, 0,
        "{allocs} allocations in 10,000 rounds through the line limit"
    );
    // Seven call sites, each 1,000 lines of burst twice.
    assert_eq!(limit.suppressed(), 7 * (11_002 - 2_000));
    assert_eq!(console.suppressed(), limit.suppressed());
    // Under a scoped dispatcher the summaries are dropped before any layer
    // (see `LineLimit`): the events are those logged.
    assert_eq!(handle.total_events(), 7 * 11_002);
}
