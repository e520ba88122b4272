//! A cardinality attack: 1,000,000 distinct event values from 2 threads.
//! Series stay at the cap, resident memory grows by less than 20 MB, and the
//! total count is exact. Alone while it runs (`crate::alone`), so no other
//! test moves the RSS.

use robustmq_log_metrics::LogMetrics;
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::prelude::*;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

#[test]
fn a_million_distinct_event_names_keep_series_and_memory_bounded() {
    let _alone = crate::alone();
    let cap = 256;
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(cap)
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    // Warm up: threads, caches and the allocator's arenas exist before measuring.
    dispatcher::with_default(&dispatch, || tracing::warn!(event = "warm", "x"));
    let _ = handle.render();
    let before = rss_bytes();

    let per_thread = 500_000u64;
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let d = dispatch.clone();
            std::thread::spawn(move || {
                dispatcher::with_default(&d, || {
                    let mut name = String::with_capacity(32);
                    for i in 0..per_thread {
                        use std::fmt::Write;
                        name.clear();
                        let _ = write!(name, "attacker_{t}_{i}");
                        tracing::warn!(event = name.as_str(), client_id = i, "hostile");
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let text = handle.render();
    let after = rss_bytes();
    let grown = after.saturating_sub(before);

    // `warm` took one of the cap's names; the attack filled the rest, then overflow.
    let series = text
        .lines()
        .filter(|l| l.starts_with("robustmq_log_events_total{"))
        .count();
    assert_eq!(series, cap + 1, "cap names plus the overflow series");
    assert_eq!(handle.total_events(), 2 * per_thread + 1, "no count lost");
    let overflowed = handle.count("warn", "robustmq", "overflow").unwrap();
    assert_eq!(overflowed, 2 * per_thread - (cap as u64 - 1));
    assert!(
        grown < 20 * 1024 * 1024,
        "resident memory grew by {} MB under the attack",
        grown / (1024 * 1024)
    );
    eprintln!(
        "cardinality attack: 1,000,000 names -> {series} series, RSS +{} KiB, {overflowed} counted as overflow",
        grown / 1024
    );
}
