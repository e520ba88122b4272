//! Hot path and scrape cost of robustmq-log-metrics, each figure next to its
//! baselines measured in the same run.
//!
//! Full run: `cargo bench --bench overhead`
//! Quick ratio table (< 2 min): `cargo bench --bench overhead -- --quick`
//!
//! After the benches it prints the table of ratios with the targets from
//! issue 5, each marked PASS or FAIL.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use robustmq_log_metrics::LogMetrics;
use tracing::dispatcher::{self, Dispatch};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;

// ---------------------------------------------------------------- allocator

/// Counts live heap bytes, for the resident-bytes-per-series figure.
struct Counting;
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(l.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE_BYTES.fetch_sub(l.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(n as u64, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(l.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc`\'s contract.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ------------------------------------------------------------------- events

#[inline(never)]
fn structured(i: u64) {
    tracing::info!(target: "broker::mqtt_broker::conn", event = "connection_accepted", protocol = "tcp",
        connection_id = i, remote_addr = "10.0.0.1:1883", node_id = 1u64, "TCP connection accepted");
}

#[inline(never)]
fn structured_b(i: u64) {
    tracing::info!(target: "broker::journal_server::seg", event = "segment_sealed", protocol = "tcp",
        connection_id = i, remote_addr = "10.0.0.2:1883", node_id = 1u64, "Segment sealed");
}

#[inline(never)]
fn unstructured(i: u64) {
    tracing::info!(target: "broker::mqtt_broker::conn", "accept tcp connection:{:?}", i);
}

#[inline(never)]
fn default_service(i: u64) {
    tracing::info!(target: "other::module", event = "connection_accepted", connection_id = i, "no prefix matches");
}

/// The same counts through tracing-opentelemetry's MetricsLayer: the counter
/// field plus the three attributes it needs.
#[inline(never)]
fn otel_event(_i: u64) {
    // A plain field first: `target:` followed by a dotted name is ambiguous to the macro.
    tracing::info!(target: "broker::mqtt_broker::conn", level = "info", monotonic_counter.robustmq_log_events = 1u64,
        service = "mqtt-broker", event = "connection_accepted", "TCP connection accepted");
}

/// The structured log line itself, plus what MetricsLayer needs to count it:
/// the counter field and the level and service attributes. MetricsLayer turns
/// every other field into an attribute too (connection_id included).
#[inline(never)]
fn otel_full_event(i: u64) {
    tracing::info!(target: "broker::mqtt_broker::conn", level = "info", monotonic_counter.robustmq_log_events = 1u64,
        service = "mqtt-broker", event = "connection_accepted", protocol = "tcp",
        connection_id = i % 1000, remote_addr = "10.0.0.1:1883", node_id = 1u64, "TCP connection accepted");
}

// ------------------------------------------------------------------ layers

struct NoopLayer;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// The floor of any layer that reads a field's value: visit every field, do nothing.
struct VisitOnlyLayer;
struct NoopVisit;
impl Visit for NoopVisit {
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for VisitOnlyLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        event.record(&mut NoopVisit);
    }
}

#[path = "baselines/naive.rs"]
mod naive;
use naive::NaiveLayer;

fn ours() -> (Dispatch, robustmq_log_metrics::LogMetricsHandle) {
    let (layer, handle) = LogMetrics::builder()
        .service_for_target("broker::mqtt_broker", "mqtt-broker")
        .service_for_target("broker::journal_server", "journal-server")
        .global_label("node_id", "1")
        .build()
        .expect("build");
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    )
}

fn otel_dispatch() -> Dispatch {
    let reader = opentelemetry_sdk::metrics::ManualReader::builder().build();
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(reader)
        .build();
    Dispatch::new(
        tracing_subscriber::registry().with(tracing_opentelemetry::MetricsLayer::new(provider)),
    )
}

fn json_dispatch() -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::sink),
        ),
    )
}

fn bench_in(c: &mut Criterion, group: &str, name: &str, d: &Dispatch, f: fn(u64)) {
    let mut g = c.benchmark_group(group);
    dispatcher::with_default(d, || {
        let mut i = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                f(black_box(i))
            })
        });
    });
    g.finish();
}

fn per_event(c: &mut Criterion) {
    let bare = Dispatch::new(tracing_subscriber::registry());
    let noop = Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    let naive = Dispatch::new(tracing_subscriber::registry().with(NaiveLayer));
    let otel = otel_dispatch();
    let json = json_dispatch();
    let (ours, _h) = ours();

    bench_in(c, "event", "bare_registry", &bare, structured);
    bench_in(c, "event", "noop_layer", &noop, structured);
    bench_in(c, "event", "naive_layer", &naive, structured);
    let visit = Dispatch::new(tracing_subscriber::registry().with(VisitOnlyLayer));
    bench_in(c, "event", "visit_only_layer", &visit, structured);
    bench_in(c, "event", "visit_only_otel_event", &visit, otel_event);
    bench_in(c, "event", "otel_registry", &bare, otel_event);
    bench_in(c, "event", "otel_metrics_layer", &otel, otel_event);
    bench_in(c, "event", "ours_otel_event", &ours, otel_event);
    bench_in(c, "event", "otel_full_registry", &bare, otel_full_event);
    bench_in(
        c,
        "event",
        "otel_metrics_layer_full",
        &otel,
        otel_full_event,
    );
    bench_in(c, "event", "ours_otel_full_event", &ours, otel_full_event);
    bench_in(c, "event", "fmt_json_sink", &json, structured);
    bench_in(c, "event", "ours_structured", &ours, structured);
    bench_in(c, "event", "bare_unstructured", &bare, unstructured);
    bench_in(c, "event", "ours_unstructured", &ours, unstructured);
    bench_in(c, "event", "bare_default_service", &bare, default_service);
    bench_in(c, "event", "ours_default_service", &ours, default_service);

    // Inside two spans: the registry's span bookkeeping is paid by both.
    for (name, d) in [("bare_in_two_spans", &bare), ("ours_in_two_spans", &ours)] {
        let mut g = c.benchmark_group("event");
        dispatcher::with_default(d, || {
            let outer = tracing::info_span!("connection", client = 1u64);
            let _o = outer.enter();
            let inner = tracing::info_span!("publish", topic = "a/b");
            let _i = inner.enter();
            let mut i = 0u64;
            g.bench_function(name, |b| {
                b.iter(|| {
                    i += 1;
                    structured(black_box(i))
                })
            });
        });
        g.finish();
    }

    // Overflow: every event a new name past a small cap (the slow path).
    let (layer, _oh) = LogMetrics::builder()
        .max_events_per_service(16)
        .build()
        .expect("build");
    let over = Dispatch::new(tracing_subscriber::registry().with(layer));
    let names: Vec<String> = (0..4096).map(|i| format!("generated_name_{i}")).collect();
    let mut g = c.benchmark_group("event");
    dispatcher::with_default(&over, || {
        let mut i = 0usize;
        g.bench_function("ours_overflow", |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                tracing::warn!(event = names[i].as_str(), "unbounded names");
            })
        });
    });
    g.finish();
}

/// Per-thread cost per event with `threads` threads logging at once.
fn threaded(iters: u64, threads: usize, d: &Dispatch, fs: &[fn(u64)]) -> Duration {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let d = d.clone();
            let b = barrier.clone();
            let f = fs[t % fs.len()];
            std::thread::spawn(move || {
                dispatcher::with_default(&d, || {
                    f(0); // warm this thread's cache
                    b.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        f(black_box(i));
                    }
                    start.elapsed()
                })
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .max()
        .unwrap_or_default()
}

fn two_threads(c: &mut Criterion) {
    let (d, _h) = ours();
    let mut g = c.benchmark_group("threads");
    g.bench_function("ours_one_thread", |b| {
        b.iter_custom(|n| threaded(n, 1, &d, &[structured]))
    });
    g.bench_function("ours_two_threads_same_callsite", |b| {
        b.iter_custom(|n| threaded(n, 2, &d, &[structured]))
    });
    g.bench_function("ours_two_threads_different_callsites", |b| {
        b.iter_custom(|n| threaded(n, 2, &d, &[structured, structured_b]))
    });
    g.finish();
}

/// A handle with `n` series: 10 services, n/10 event names each.
fn handle_with(n: usize) -> robustmq_log_metrics::LogMetricsHandle {
    let (layer, handle) = LogMetrics::builder()
        .global_label("node_id", "1")
        .max_events_per_service(100_000)
        .build()
        .expect("build");
    let d = Dispatch::new(tracing_subscriber::registry().with(layer));
    dispatcher::with_default(&d, || {
        for i in 0..n {
            let service = format!("service-{}", i % 10);
            let event = format!("event_name_{}", i / 10);
            tracing::info!(service = service.as_str(), event = event.as_str(), "x");
        }
    });
    let _ = handle.render();
    // At least n: callsites without an event field add their pre-registered series.
    assert!(samples(&handle.render()) >= n, "ours renders every series");
    handle
}

fn samples(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("robustmq_log_events_total{"))
        .count()
}

fn exporter_with(n: usize) -> metrics_exporter_prometheus::PrometheusHandle {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!(
            "robustmq_log_events_total",
            "Tracing events counted in-process."
        );
        for i in 0..n {
            let service = format!("service-{}", i % 10);
            let event = format!("event_name_{}", i / 10);
            metrics::counter!("robustmq_log_events_total", "node_id" => "1", "level" => "info",
                "service" => service, "event" => event)
            .increment(1);
        }
    });
    assert_eq!(
        samples(&handle.render()),
        n,
        "the exporter renders every series"
    );
    handle
}

fn render(c: &mut Criterion) {
    let mut g = c.benchmark_group("render");
    for n in [100usize, 1_000, 10_000] {
        let ours = handle_with(n);
        let exporter = exporter_with(n);
        g.bench_with_input(BenchmarkId::new("ours", n), &n, |b, _| {
            b.iter(|| black_box(ours.render()))
        });
        g.bench_with_input(BenchmarkId::new("exporter", n), &n, |b, _| {
            b.iter(|| black_box(exporter.render()))
        });
    }
    g.finish();

    // Logging while a scraper renders 1,000 series in a loop on the other core.
    let (d, h) = ours();
    dispatcher::with_default(&d, || {
        for i in 0..1000 {
            let e = format!("e{i}");
            tracing::info!(event = e.as_str(), "x");
        }
    });
    let mut g = c.benchmark_group("scrape_contention");
    g.bench_function("log_while_idle", |b| {
        b.iter_custom(|n| threaded(n, 1, &d, &[structured]))
    });
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut renders = 0u64;
            while !stop.load(Ordering::Relaxed) {
                black_box(h.render());
                renders += 1;
            }
            renders
        })
    };
    g.bench_function("log_while_scraping", |b| {
        b.iter_custom(|n| threaded(n, 1, &d, &[structured]))
    });
    stop.store(true, Ordering::Relaxed);
    let renders = scraper.join().expect("scraper");
    g.finish();
    eprintln!("scraper rendered 1,000 series {renders} times during log_while_scraping");
}

/// Heap bytes retained per series, measured by the counting allocator.
fn bytes_per_series(n: usize) -> f64 {
    let before = LIVE_BYTES.load(Ordering::SeqCst);
    let h = handle_with(n);
    let after = LIVE_BYTES.load(Ordering::SeqCst);
    let series = h.series_count();
    black_box(&h);
    (after.saturating_sub(before)) as f64 / series as f64
}

// --------------------------------------------------------------- the table

fn out_dir() -> PathBuf {
    // The repository's target/: the manifest dir is dev/, which declares the benches.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("dev/ has a parent directory")
        .join("target")
        .join("criterion-overhead")
}

fn mean_ns(group: &str, id: &str) -> f64 {
    let p = out_dir()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("estimates json");
    v["mean"]["point_estimate"].as_f64().expect("mean")
}

fn table(bytes: f64) -> bool {
    let e = |id: &str| mean_ns("event", id);
    let bare = e("bare_registry");
    let added = |x: f64, base: f64| (x - base).max(0.001);
    let ours = added(e("ours_structured"), bare);
    let naive = added(e("naive_layer"), bare);
    let otel = added(e("otel_metrics_layer"), e("otel_registry"));
    // The same event for both: the one MetricsLayer needs to produce these counts.
    let ours_on_otel = added(e("ours_otel_event"), e("otel_registry"));
    let otel_full = added(e("otel_metrics_layer_full"), e("otel_full_registry"));
    let ours_on_otel_full = added(e("ours_otel_full_event"), e("otel_full_registry"));
    let visit_floor = added(e("visit_only_otel_event"), e("otel_registry"));
    let json = added(e("fmt_json_sink"), bare);
    let t = |id: &str| mean_ns("threads", id);
    let one = t("ours_one_thread");
    let same = t("ours_two_threads_same_callsite");
    let diff = t("ours_two_threads_different_callsites");

    println!(
        "\n## Per-event cost (ns, mean; added = minus the bare registry with the same event)\n"
    );
    println!("| figure | ns/event | added ns |");
    println!("|---|---:|---:|");
    for (id, base) in [
        ("bare_registry", "bare_registry"),
        ("noop_layer", "bare_registry"),
        ("visit_only_layer", "bare_registry"),
        ("visit_only_otel_event", "otel_registry"),
        ("naive_layer", "bare_registry"),
        ("otel_registry", "otel_registry"),
        ("otel_metrics_layer", "otel_registry"),
        ("ours_otel_event", "otel_registry"),
        ("otel_full_registry", "otel_full_registry"),
        ("otel_metrics_layer_full", "otel_full_registry"),
        ("ours_otel_full_event", "otel_full_registry"),
        ("fmt_json_sink", "bare_registry"),
        ("ours_structured", "bare_registry"),
        ("ours_unstructured", "bare_unstructured"),
        ("ours_default_service", "bare_default_service"),
        ("ours_in_two_spans", "bare_in_two_spans"),
        ("ours_overflow", "bare_registry"),
    ] {
        println!("| {id} | {:.1} | {:.1} |", e(id), e(id) - e(base));
    }
    println!("\n## Threads (per-thread ns per event)\n");
    println!("| one thread | two threads, same callsite | two threads, different callsites |");
    println!("|---:|---:|---:|");
    println!("| {one:.1} | {same:.1} | {diff:.1} |");
    println!("\n## Render (µs per scrape)\n");
    println!("| series | ours | metrics-exporter-prometheus | ratio |");
    println!("|---:|---:|---:|---:|");
    let mut render_ok = true;
    let mut worst_render: f64 = 0.0;
    for n in ["100", "1000", "10000"] {
        let o = mean_ns("render", &format!("ours/{n}"));
        let x = mean_ns("render", &format!("exporter/{n}"));
        worst_render = worst_render.max(o / x);
        render_ok &= o / x <= 1.2;
        println!("| {n} | {:.1} | {:.1} | {:.3} |", o / 1e3, x / 1e3, o / x);
    }
    let idle = mean_ns("scrape_contention", "log_while_idle");
    let busy = mean_ns("scrape_contention", "log_while_scraping");
    println!("\nLogging while a scraper renders 1,000 series in a loop: {busy:.1} ns/event vs {idle:.1} idle ({:.2}x).", busy / idle);
    println!("Heap bytes retained per series (10,000 series): {bytes:.0}");

    let checks = [
        ("added cost <= 1/10 of the naive layer's", ours / naive, 0.1),
        (
            "added cost <= 1/15 of MetricsLayer's (its minimal event, both layers)",
            ours_on_otel / otel,
            1.0 / 15.0,
        ),
        (
            "added cost <= 1/15 of MetricsLayer's (the full 5-field log line, both layers)",
            ours_on_otel_full / otel_full,
            1.0 / 15.0,
        ),
        ("added cost <= 3% of a JSON log line", ours / json, 0.03),
        (
            "two threads, same callsite: per-thread cost <= 1.5x one thread",
            same / one,
            1.5,
        ),
        (
            "two threads, different callsites: per-thread cost <= 1.5x one thread",
            diff / one,
            1.5,
        ),
        (
            "render <= 1.2x the exporter (worst of 100/1k/10k)",
            worst_render,
            1.2,
        ),
        ("resident bytes per series <= 1024", bytes, 1024.0),
    ];
    println!(
        "\nFloor: visiting the fields of MetricsLayer's minimal event with a no-op visitor costs {:.1} ns added, \
         {:.4} of MetricsLayer's {:.1} ns: any layer that reads one field value pays it.",
        visit_floor,
        visit_floor / otel,
        otel
    );
    println!("\n## Targets\n");
    println!("| target | measured | limit | |");
    println!("|---|---:|---:|---|");
    let mut ok = render_ok;
    let mut met = 0;
    let total = checks.len();
    for (what, got, limit) in checks {
        let pass = got <= limit;
        ok &= pass;
        met += usize::from(pass);
        println!(
            "| {what} | {got:.4} | {limit:.4} | {} |",
            if pass { "PASS" } else { "FAIL" }
        );
    }
    println!("\n{met} of {total} targets met (BENCHMARKS.md explains any that are not).");
    ok
}

fn main() {
    // The naive layer counts through the global `metrics` recorder, as its author would.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(recorder).expect("recorder");

    let bytes = bytes_per_series(10_000);
    let mut c = Criterion::default()
        .output_directory(&out_dir())
        .configure_from_args();
    per_event(&mut c);
    two_threads(&mut c);
    render(&mut c);
    c.final_summary();
    // `cargo bench -- <filter>` runs a subset: only print the table after a full run.
    let complete = std::env::args().skip(1).all(|a| a.starts_with("--"));
    if complete {
        // The table says PASS/FAIL per target; the exit code stays 0 so that a
        // known, documented miss does not hide the other figures in scripts.
        let _all_met = table(bytes);
    }
}
