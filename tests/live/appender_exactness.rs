//! What the log pipeline loses, exactly: events logged from several threads
//! through `tracing_appender::non_blocking` with a small buffer into a sink
//! that takes 1 ms per line, so the buffer overflows and lines are dropped.
//! Scraped over HTTP and read with the reference parser: lines written +
//! lines dropped = events the layer counted at the appender's levels, and
//! bytes = bytes the sink received. Also the demo broker's `--log-sink slow`.

use crate::support;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use robustmq_log_metrics::LogMetrics;
use support::{get, parse, wait_for, Sample};
use tracing::dispatcher::{self, Dispatch};
use tracing_appender::non_blocking::NonBlockingBuilder;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// What the sink received, counted by the sink itself.
#[derive(Default)]
struct Received {
    bytes: AtomicU64,
    newlines: AtomicU64,
}

/// The slow sink: 1 ms per write, then takes the whole buffer.
struct SlowSink(Arc<Received>);

impl Write for SlowSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        let newlines = buf.iter().filter(|b| **b == b'\n').count() as u64;
        self.0.newlines.fetch_add(newlines, Ordering::Relaxed);
        self.0.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const THREADS: u64 = 4;
const ROUNDS: u64 = 400;
const BUFFER_LINES: usize = 16;

/// One round: three events at the appender's levels (info and above), two
/// below them, which the layer counts and the appender never sees.
fn log_round(thread: u64, i: u64) {
    tracing::info!(target: "app::mqtt", event = "message_published", thread, i, "published");
    tracing::warn!(target: "app::mqtt", event = "auth_failed", thread, "bad password");
    if i % 2 == 0 {
        tracing::error!(target: "app::storage", event = "storage_error", "disk full");
    } else {
        tracing::info!(target: "app::storage", "legacy line {}", i);
    }
    tracing::debug!(target: "app::mqtt", event = "message_delivered", "delivered");
    tracing::trace!(target: "app::mqtt", event = "frame_read", "frame");
}

fn value(samples: &[Sample], name: &str, appender: &str) -> u64 {
    let found: Vec<_> = samples
        .iter()
        .filter(|s| {
            s.name == name && s.labels.get("appender").map(String::as_str) == Some(appender)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} sample for {appender}: {found:?}"
    );
    assert_eq!(found[0].labels["node_id"], "7", "{:?}", found[0]);
    found[0].value as u64
}

#[test]
fn lines_written_plus_dropped_equal_the_events_at_the_appender_levels_exactly() {
    let (layer, handle) = LogMetrics::builder()
        .global_label("node_id", "7")
        .service_for_target("app::mqtt", "mqtt-broker")
        .service_for_target("app::storage", "storage-engine")
        .build()
        .unwrap();
    let server = handle.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.local_addr();

    // The appender as RobustMQ builds it, the counted writer inside non_blocking.
    let received = Arc::new(Received::default());
    let appender = handle.appender("server").unwrap();
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFER_LINES)
        .finish(appender.writer(SlowSink(received.clone())));
    let errors = writer.error_counter();
    let dropped_source = errors.clone();
    appender.count_dropped(move || dropped_source.dropped_lines() as u64);
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer)
        .with_filter(LevelFilter::INFO);
    // The metrics layer counts every level; the appender gets info and above.
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(fmt).with(layer));

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let d = dispatch.clone();
            std::thread::spawn(move || {
                dispatcher::with_default(&d, || (0..ROUNDS).for_each(|i| log_round(t, i)))
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    drop(dispatch);

    // Ground truth, independent of the crate: every line handed to
    // non_blocking has been written by the sink or counted as dropped by
    // tracing-appender. Then the guard's shutdown hand-shake returns once
    // the worker has finished every line before it, counting included.
    let at_levels = THREADS * ROUNDS * 3;
    wait_for(
        "the non-blocking queue to drain",
        Duration::from_secs(60),
        || {
            let done = received.newlines.load(Ordering::Relaxed) + errors.dropped_lines() as u64;
            (done == at_levels).then_some(())
        },
    );
    drop(guard);

    // The first scrape shows new series at 0; the second the counts.
    let _ = get(addr, "/metrics");
    let response = get(addr, "/metrics");
    assert_eq!(response.status, 200);
    let samples = parse(&response.text());
    let mut events_by_level: BTreeMap<String, u64> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| s.name == "robustmq_log_events_total")
    {
        *events_by_level
            .entry(s.labels["level"].clone())
            .or_default() += s.value as u64;
    }
    let events: u64 = ["error", "warn", "info"]
        .iter()
        .map(|l| events_by_level.get(*l).copied().unwrap_or(0))
        .sum();
    let below: u64 = ["debug", "trace"]
        .iter()
        .map(|l| events_by_level.get(*l).copied().unwrap_or(0))
        .sum();
    let lines = value(&samples, "robustmq_log_appender_lines_total", "server");
    let dropped = value(
        &samples,
        "robustmq_log_appender_dropped_lines_total",
        "server",
    );
    let bytes = value(&samples, "robustmq_log_appender_bytes_total", "server");
    let sink_bytes = received.bytes.load(Ordering::Relaxed);
    let sink_lines = received.newlines.load(Ordering::Relaxed);
    println!(
        "appender exactness: events at info and above {events} (+ {below} debug/trace counted by \
         the layer only), lines written {lines}, lines dropped {dropped}, bytes {bytes} \
         (sink received {sink_bytes} bytes in {sink_lines} lines); buffer {BUFFER_LINES} lines, \
         sink 1 ms per line, {THREADS} threads"
    );

    assert_eq!(
        events, at_levels,
        "the layer counts every event: {events_by_level:?}"
    );
    assert_eq!(below, THREADS * ROUNDS * 2, "{events_by_level:?}");
    assert!(dropped > 0, "the slow sink must make the buffer drop lines");
    assert!(lines > 0, "some lines must reach the sink");
    assert_eq!(
        lines + dropped,
        events,
        "lines + dropped = events at the appender's levels"
    );
    assert_eq!(lines, sink_lines, "one line per event reached the sink");
    assert_eq!(dropped, errors.dropped_lines() as u64);
    assert_eq!(bytes, sink_bytes, "bytes = what the sink received");
    server.shutdown().unwrap();
}

#[test]
fn demo_broker_with_the_slow_sink_counts_drops_on_its_endpoint() {
    // Every event an error (the demo's stderr filter is `error`), 2,000 a
    // second into a 1 ms sink behind a 4-line buffer: lines are dropped.
    let (_broker, addr) = support::start_broker(&[
        "--events-per-sec",
        "2000",
        "--error-rate",
        "1",
        "--log-sink",
        "slow",
        "--log-buffer-lines",
        "4",
    ]);
    let (lines, dropped, bytes) = wait_for(
        "the demo broker's console appender to drop lines",
        Duration::from_secs(60),
        || {
            let samples = parse(&get(addr, "/metrics").text());
            let read = |name: &str| {
                samples
                    .iter()
                    .find(|s| {
                        s.name == name
                            && s.labels.get("appender").map(String::as_str) == Some("console")
                    })
                    .map(|s| s.value as u64)
            };
            let got = (
                read("robustmq_log_appender_lines_total")?,
                read("robustmq_log_appender_dropped_lines_total")?,
                read("robustmq_log_appender_bytes_total")?,
            );
            (got.0 > 0 && got.1 > 0).then_some(got)
        },
    );
    // Each demo line is tens of bytes.
    assert!(bytes > lines * 20, "{bytes} bytes for {lines} lines");
    assert!(dropped > 0);
}
