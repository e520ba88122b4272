//! Exact counts under concurrency: threads log while clients scrape over HTTP.
//! Consecutive scrapes of a client never show a counter decrease, and the
//! final scrape equals what was logged, per label set.

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use robustmq_log_metrics::LogMetrics;
use support::{event_counts, parse};
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::prelude::*;

/// Samples of a scrape without the Python round trip (used on every scrape;
/// the final one goes through the reference parser).
fn quick_parse(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("sample line");
            (k.to_owned(), v.parse().expect("integer value"))
        })
        .collect()
}

#[test]
fn scrapes_never_decrease_and_the_final_one_is_exact() {
    let (layer, handle) = LogMetrics::builder()
        .service_for_target("w1", "one")
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let server = handle.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.local_addr();
    let stop = Arc::new(AtomicBool::new(false));

    let scrapers: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut last: BTreeMap<String, u64> = BTreeMap::new();
                let mut scrapes = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let r = support::get(addr, "/metrics");
                    assert_eq!(r.status, 200);
                    let now = quick_parse(&r.text());
                    for (series, v) in &last {
                        let n = now
                            .get(series)
                            .copied()
                            .unwrap_or_else(|| panic!("{series} vanished"));
                        assert!(n >= *v, "{series} went from {v} to {n}");
                    }
                    last = now;
                    scrapes += 1;
                }
                scrapes
            })
        })
        .collect();

    let per_thread = 50_000u64;
    let loggers: Vec<_> = (0..4u64)
        .map(|t| {
            let d = dispatch.clone();
            std::thread::spawn(move || {
                dispatcher::with_default(&d, || {
                    for i in 0..per_thread {
                        match (t + i) % 4 {
                            0 => tracing::error!(target: "w1", event = "a", "x"),
                            1 => tracing::warn!(target: "w2", event = "b", "x"),
                            2 => tracing::info!(target: "w1", "unstructured {}", i),
                            _ => tracing::error!(target: "w2", service = "svc", event = "c", "x"),
                        }
                    }
                })
            })
        })
        .collect();
    for l in loggers {
        l.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let scrapes: u32 = scrapers.into_iter().map(|s| s.join().unwrap()).sum();
    assert!(scrapes >= 3, "scrapers ran {scrapes} times");

    // Twice: a series born in the last moments is shown at 0 once.
    let _ = support::get(addr, "/metrics");
    let mut got = event_counts(&parse(&support::get(addr, "/metrics").text()));
    got.retain(|_, v| *v > 0);
    let n = 4 * per_thread / 4;
    let want: BTreeMap<(String, String, String), u64> = [
        (("error".into(), "one".into(), "a".into()), n),
        (("warn".into(), "robustmq".into(), "b".into()), n),
        (("info".into(), "one".into(), "unstructured".into()), n),
        (("error".into(), "svc".into(), "c".into()), n),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    server.shutdown().unwrap();
}
