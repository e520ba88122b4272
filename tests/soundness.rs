//! The hot path under every case that once hid undefined behaviour. Small
//! enough to run under Miri in both borrow models (CI: `scripts/miri.sh`):
//!
//! ```text
//! cargo +nightly miri test --test soundness
//! MIRIFLAGS=-Zmiri-tree-borrows cargo +nightly miri test --test soundness
//! ```
//!
//! Natively they are ordinary exact-count tests.

use std::fmt;
use std::sync::{Arc, Barrier};

use robustmq_log_metrics::{LogMetrics, LogMetricsHandle};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// Scales loop counts down under Miri, which runs about 100x slower.
const fn n(native: u64) -> u64 {
    if cfg!(miri) {
        if native > 20 {
            20
        } else {
            native
        }
    } else {
        native
    }
}

fn dispatch_with(builder: robustmq_log_metrics::LogMetricsBuilder) -> (Dispatch, LogMetricsHandle) {
    let (layer, handle) = builder.build().unwrap();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    )
}

fn new_dispatch() -> (Dispatch, LogMetricsHandle) {
    dispatch_with(LogMetrics::builder())
}

#[test]
fn repeated_events_from_one_callsite_hit_the_memo_and_count_exactly() {
    let (d, h) = new_dispatch();
    tracing::dispatcher::with_default(&d, || {
        for i in 0..n(100) {
            tracing::info!(event = "same", i, "memo hit after the first");
        }
    });
    assert_eq!(h.count("info", "robustmq", "same"), Some(n(100)));
}

#[test]
fn new_event_and_service_values_and_partial_memo_hits_count_exactly() {
    let (d, h) = new_dispatch();
    let events = ["a", "b", "a", "c", "a"];
    let services = ["s1", "s1", "s2", "s2", ""];
    // What each (service, event) series must hold, as logged.
    let mut expected: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    tracing::dispatcher::with_default(&d, || {
        for round in 0..n(10) {
            for (i, (e, s)) in events.iter().zip(services).enumerate() {
                // Alternate the event and service values so that the memo
                // hits fully, on the event only, on the service only, or not at all.
                let e = if round % 2 == 0 {
                    *e
                } else {
                    events[(i + 1) % 5]
                };
                tracing::warn!(event = e, service = s, "x");
                // An empty service value falls back to the target's service.
                let filed_under = if s.is_empty() { "robustmq" } else { s };
                *expected.entry((filed_under, e)).or_default() += 1;
            }
        }
    });
    for service in ["s1", "s2", "robustmq"] {
        for event in ["a", "b", "c"] {
            let want = expected.get(&(service, event)).copied();
            assert_eq!(h.count("warn", service, event), want, "{service}/{event}");
        }
    }
    assert_eq!(h.total_events(), n(10) * 5, "no series beyond these");
}

#[test]
fn the_overflow_cap_counts_dropped_names_without_caching_them() {
    let (d, h) = dispatch_with(LogMetrics::builder().max_events_per_service(2));
    tracing::dispatcher::with_default(&d, || {
        for i in 0..n(12) {
            let name = format!("name_{}", i % 4);
            tracing::error!(event = name.as_str(), "x");
        }
    });
    let kept = h.count("error", "robustmq", "name_0").unwrap()
        + h.count("error", "robustmq", "name_1").unwrap();
    let dropped = h.count("error", "robustmq", "overflow").unwrap();
    assert_eq!(kept + dropped, n(12));
    assert_eq!(dropped, n(12) / 2);
    assert_eq!(h.count("error", "robustmq", "name_2"), None);
}

#[test]
fn threads_logging_while_another_renders_count_exactly() {
    let (d, h) = new_dispatch();
    let threads = 3;
    let per_thread = n(200);
    let start = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (d, start) = (d.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                tracing::dispatcher::with_default(&d, || {
                    for i in 0..per_thread {
                        let e = if i % 2 == 0 { "even" } else { "odd" };
                        tracing::info!(event = e, thread = t, "x");
                    }
                })
            })
        })
        .collect();
    start.wait();
    let each = threads as u64 * per_thread / 2;
    let mut renders = 0;
    let mut last = [0u64; 2];
    while workers.iter().any(|w| !w.is_finished()) || renders == 0 {
        let text = h.render();
        // Every render shows each series at a count between the last one
        // shown and what was logged: never torn, never going back.
        for (i, event) in ["even", "odd"].into_iter().enumerate() {
            if let Some(shown) = shown(&text, event) {
                assert!(
                    last[i] <= shown && shown <= each,
                    "{event}: {shown}\n{text}"
                );
                last[i] = shown;
            }
        }
        renders += 1;
    }
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(h.count("info", "robustmq", "even"), Some(each));
    assert_eq!(h.count("info", "robustmq", "odd"), Some(each));
    // A series shows 0 in the first render that sees it (the first-sample
    // rule); when the workers finish before any render in the loop saw them
    // (seen under Miri), that render is this one. From the next on, the counts.
    let _ = h.render();
    let text = h.render();
    assert_eq!(
        (shown(&text, "even"), shown(&text, "odd")),
        (Some(each), Some(each)),
        "{text}"
    );
}

/// The value a render shows for `event` at level info of the default service.
fn shown(text: &str, event: &str) -> Option<u64> {
    let series =
        format!(r#"robustmq_log_events_total{{level="info",service="robustmq",event="{event}"}} "#);
    text.lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map(|value| value.parse().unwrap())
}

#[test]
fn instances_dropped_while_threads_keep_their_caches_stay_sound() {
    // A long-lived thread that has cached entries of several instances
    // logs again after each instance is dropped and a new one is built.
    let (to_worker, from_main) = std::sync::mpsc::channel::<Option<Dispatch>>();
    let (done, wait_done) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        while let Ok(Some(d)) = from_main.recv() {
            tracing::dispatcher::with_default(&d, || {
                for _ in 0..n(5) {
                    tracing::info!(event = "kept", "x");
                    tracing::info!("unstructured");
                }
            });
            drop(d);
            done.send(()).unwrap();
        }
    });
    let mut first: Option<(Dispatch, LogMetricsHandle)> = None;
    for round in 0..n(6) {
        let (d, h) = new_dispatch();
        to_worker.send(Some(d.clone())).unwrap();
        wait_done.recv().unwrap();
        assert_eq!(
            h.count("info", "robustmq", "kept"),
            Some(n(5)),
            "round {round}"
        );
        assert_eq!(h.count("info", "robustmq", "unstructured"), Some(n(5)));
        if round == 0 {
            // Keep one instance alive across the others.
            first = Some((d, h));
        }
    }
    let (d, h) = first.unwrap();
    to_worker.send(Some(d)).unwrap();
    wait_done.recv().unwrap();
    assert_eq!(h.count("info", "robustmq", "kept"), Some(2 * n(5)));
    to_worker.send(None).unwrap();
    worker.join().unwrap();
}

/// Logs from its destructor, which runs while its thread exits.
struct LogsOnThreadExit(Dispatch);

impl Drop for LogsOnThreadExit {
    fn drop(&mut self) {
        tracing::dispatcher::with_default(&self.0, || {
            tracing::error!(event = "thread_exit", "logged from a TLS destructor");
            tracing::error!("unstructured, from a TLS destructor");
        });
    }
}

thread_local! {
    static EXIT_LOGGER: std::cell::RefCell<Option<LogsOnThreadExit>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn events_logged_during_thread_exit_are_counted() {
    let (d, h) = new_dispatch();
    for _ in 0..n(3) {
        let d = d.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&d, || {
                tracing::error!(event = "thread_exit", "warm the cache")
            });
            EXIT_LOGGER.with(|l| *l.borrow_mut() = Some(LogsOnThreadExit(d)));
        })
        .join()
        .unwrap();
    }
    assert_eq!(h.count("error", "robustmq", "thread_exit"), Some(2 * n(3)));
    assert_eq!(h.count("error", "robustmq", "unstructured"), Some(n(3)));
}

/// A field value whose `Debug` hands an event straight to a dispatch: the
/// layer is re-entered while it reads the outer event's fields. (A plain
/// `tracing::warn!` there would not re-enter: tracing-core drops events
/// dispatched from inside a dispatch.)
struct DispatchesWhenFormatted(Dispatch);

static INNER_CALLSITE: tracing_core::callsite::DefaultCallsite =
    tracing_core::callsite::DefaultCallsite::new(&INNER_META);
static INNER_META: tracing_core::Metadata<'static> = tracing_core::metadata! {
    name: "inner",
    target: "soundness::reentry",
    level: tracing_core::Level::WARN,
    fields: &["event"],
    callsite: &INNER_CALLSITE,
    kind: tracing_core::metadata::Kind::EVENT,
};

impl fmt::Debug for DispatchesWhenFormatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = INNER_META.fields();
        if let Some(field) = fields.field("event") {
            let value: &dyn tracing_core::field::Value = &"inner";
            let values = [(&field, Some(value))];
            let values = fields.value_set(&values);
            self.0
                .event(&tracing_core::Event::new(&INNER_META, &values));
        }
        f.write_str("outer")
    }
}

#[test]
fn re_entrant_events_are_counted_without_the_cache() {
    let (d, h) = new_dispatch();
    let inner = DispatchesWhenFormatted(d.clone());
    tracing::dispatcher::with_default(&d, || {
        for _ in 0..n(4) {
            tracing::info!(event = ?inner, "outer");
        }
    });
    assert_eq!(h.count("info", "robustmq", "outer"), Some(n(4)));
    assert_eq!(h.count("warn", "robustmq", "inner"), Some(n(4)));
}

#[test]
fn the_last_reference_dropped_in_a_thread_exit_destructor_is_sound() {
    let (d, h) = new_dispatch();
    let handle_count = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&d, || tracing::info!(event = "before_exit", "x"));
        // The dispatch (and with it the layer's reference) now lives only
        // in this thread's TLS and is dropped during thread exit, after or
        // before the cache: either order must be sound.
        EXIT_LOGGER.with(|l| *l.borrow_mut() = Some(LogsOnThreadExit(d)));
    });
    handle_count.join().unwrap();
    assert_eq!(h.count("info", "robustmq", "before_exit"), Some(1));
    assert_eq!(h.count("error", "robustmq", "thread_exit"), Some(1));
    drop(h);
}

#[test]
fn threads_through_a_line_limit_add_call_sites_and_share_budgets_exactly() {
    use robustmq_log_metrics::{LineLimit, ManualClock};
    use tracing_subscriber::Layer;

    struct Discard;
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Discard {}

    let (layer, h) = LogMetrics::builder().build().unwrap();
    let file = h.appender("file").unwrap();
    let clock = ManualClock::new();
    let limit = LineLimit::builder()
        .burst(5)
        .refill(1)
        .appender(&file)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let d = Dispatch::new(
        tracing_subscriber::registry()
            .with(layer)
            .with(Discard.with_filter(limit.clone())),
    );
    let threads = 3;
    let per_thread = n(40);
    let start = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (d, start) = (d.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                // Two call sites each: their first events race to add nodes.
                tracing::dispatcher::with_default(&d, || {
                    for i in 0..per_thread {
                        if i % 2 == 0 {
                            tracing::info!(event = "even", "x");
                        } else {
                            tracing::warn!(event = "odd", "y");
                        }
                    }
                })
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let events = threads as u64 * per_thread;
    assert_eq!(h.total_events(), events);
    // The clock never moved: each call site wrote at most its burst (a line
    // let through while another thread added a node is written too).
    let passed = events - limit.suppressed();
    assert!((10..=10 + threads as u64 * 2).contains(&passed), "{passed}");
    assert_eq!(file.suppressed(), limit.suppressed());
}
