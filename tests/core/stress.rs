//! Stress cases that guard the counting core through any redesign: thread
//! churn under scrapes, instances dropped and rebuilt under live threads,
//! panicking field values, and a long random run
//! checked against a model of the memo. Every one asserts exact totals.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use robustmq_log_metrics::{LogMetrics, LogMetricsHandle};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

fn new_dispatch() -> (Dispatch, LogMetricsHandle) {
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    )
}

#[test]
fn two_thousand_short_lived_threads_under_two_scrapers_count_exactly() {
    let (d, h) = new_dispatch();
    let stop = Arc::new(AtomicBool::new(false));
    let scrapers: Vec<_> = (0..2)
        .map(|_| {
            let (h, stop) = (h.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut renders = 0u64;
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    // Never torn, never going back, never past what is logged.
                    if let Some(shown) = churn_shown(&h.render()) {
                        assert!(last <= shown && shown <= 2000 * 5, "{last} then {shown}");
                        last = shown;
                    }
                    renders += 1;
                }
                renders
            })
        })
        .collect();
    for _batch in 0..250 {
        let batch: Vec<_> = (0..8)
            .map(|t| {
                let d = d.clone();
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&d, || {
                        for _ in 0..5 {
                            tracing::info!(event = "churn", worker = t, "x");
                            tracing::info!("unstructured churn");
                        }
                    })
                })
            })
            .collect();
        for t in batch {
            t.join().unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for s in scrapers {
        assert!(s.join().unwrap() > 0);
    }
    assert_eq!(h.count("info", "robustmq", "churn"), Some(2000 * 5));
    assert_eq!(h.count("info", "robustmq", "unstructured"), Some(2000 * 5));
    assert_eq!(churn_shown(&h.render()), Some(2000 * 5));
}

/// The value a render shows for the `churn` series.
fn churn_shown(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(
                r#"robustmq_log_events_total{level="info",service="robustmq",event="churn"} "#,
            )
        })
        .map(|value| value.parse().unwrap())
}

#[test]
fn three_hundred_instances_dropped_and_rebuilt_under_four_live_threads() {
    // The threads log to whichever instance is current; each cycle's handle
    // must hold exactly what was logged to its instance.
    let current: Arc<Mutex<(usize, Dispatch)>> = Arc::new(Mutex::new((0, new_dispatch().0)));
    let cycles = 300;
    let logged: Arc<Vec<AtomicU64>> = Arc::new((0..=cycles).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (current, logged, stop) = (current.clone(), logged.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (cycle, d) = current.lock().unwrap().clone();
                    tracing::dispatcher::with_default(&d, || {
                        for _ in 0..10 {
                            tracing::warn!(event = "rebuilt", "x");
                        }
                    });
                    logged[cycle].fetch_add(10, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut handles = Vec::new();
    for cycle in 1..=cycles {
        let (d, h) = new_dispatch();
        *current.lock().unwrap() = (cycle, d);
        // Every third instance is dropped whole at once (layer and handle),
        // while the threads' caches still hold its entries.
        if cycle % 3 != 0 {
            handles.push((cycle, h));
        }
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    for (cycle, h) in handles {
        let want = logged[cycle].load(Ordering::Relaxed);
        let got = h.count("warn", "robustmq", "rebuilt").unwrap_or(0);
        assert_eq!(got, want, "cycle {cycle}");
    }
}

struct PanicsWhenFormatted;

impl fmt::Debug for PanicsWhenFormatted {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("a Debug impl that panics");
    }
}

#[test]
fn a_debug_impl_that_panics_leaves_the_cache_usable() {
    let (d, h) = new_dispatch();
    tracing::dispatcher::with_default(&d, || {
        tracing::info!(event = "before", "x");
        for _ in 0..3 {
            let r = std::panic::catch_unwind(|| {
                tracing::info!(event = ?PanicsWhenFormatted, "the field panics");
            });
            assert!(r.is_err());
            // The same callsite cache and buffers serve the next events.
            tracing::info!(event = "before", "x");
            tracing::info!(event = "after", "x");
        }
    });
    // An event whose field panics is aborted before it is counted; every
    // other event counts exactly.
    assert_eq!(h.count("info", "robustmq", "before"), Some(4));
    assert_eq!(h.count("info", "robustmq", "after"), Some(3));
    assert_eq!(h.total_events(), 7);
}

/// One event of the random run: which callsite, and its field values.
#[derive(Debug, Clone)]
struct Step {
    site: u8,
    event: String,
    service: String,
}

fn log_step(s: &Step) {
    let (e, svc) = (s.event.as_str(), s.service.as_str());
    match s.site % 4 {
        0 => tracing::info!(event = e, "site 0"),
        1 => tracing::error!(event = e, service = svc, "site 1"),
        2 => tracing::warn!(service = svc, "site 2"),
        _ => tracing::debug!(event = %e, "site 3"),
    }
}

/// The model: what each step must count, as (level, service, event).
fn model_key(s: &Step) -> (&'static str, String, String) {
    let service = |v: &str| {
        if v.is_empty() {
            "robustmq".to_owned()
        } else {
            v.to_owned()
        }
    };
    match s.site % 4 {
        0 => ("info", "robustmq".into(), s.event.clone()),
        1 => ("error", service(&s.service), s.event.clone()),
        2 => ("warn", service(&s.service), "unstructured".into()),
        _ => ("debug", "robustmq".into(), s.event.clone()),
    }
}

#[test]
fn two_hundred_thousand_events_match_a_model_of_the_memo() {
    // Few distinct values, so the memo hits fully, partly and not at all in
    // every order; the caps are far away so the model needs no overflow.
    let values = ["a", "b", "ab", "connection_accepted", "connection_acceptee"];
    let services = ["", "s1", "s2", "mqtt-broker"];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let steps = proptest::collection::vec((0u8..4, 0usize..5, 0usize..4), 200_000)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let steps: Vec<Step> = steps
        .into_iter()
        .map(|(site, e, s)| Step {
            site,
            event: values[e].to_owned(),
            service: services[s].to_owned(),
        })
        .collect();
    let (d, h) = new_dispatch();
    let mut model: HashMap<(&'static str, String, String), u64> = HashMap::new();
    tracing::dispatcher::with_default(&d, || {
        for s in &steps {
            log_step(s);
            *model.entry(model_key(s)).or_default() += 1;
        }
    });
    for ((level, service, event), want) in &model {
        assert_eq!(
            h.count(level, service, event),
            Some(*want),
            "{level} {service} {event}"
        );
    }
    assert_eq!(h.total_events(), 200_000);
}
