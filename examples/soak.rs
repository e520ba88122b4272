//! Soak check: 2 threads logging at full speed while a client scrapes the
//! real endpoint 50 times a second, on loopback, bounded in time.
//!
//! ```text
//! cargo run --release --example soak -- [--secs 60] [--baseline-secs 10] [--scrapes-per-sec 50] [--series 1000]
//! ```
//!
//! Prints failed scrapes, scrape latency percentiles, and logging throughput
//! with and without the scraper. Exits 1 if any scrape failed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use robustmq_log_metrics::LogMetrics;
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::prelude::*;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a whole number"))
        })
        .unwrap_or(default)
}

fn scrape(addr: SocketAddr) -> std::io::Result<usize> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    if !buf.starts_with(b"HTTP/1.1 200") {
        return Err(std::io::Error::other("non-200 response"));
    }
    Ok(buf.len())
}

/// Runs the two loggers for `secs`; returns events per second per thread.
fn log_for(d: &Dispatch, secs: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (d, stop, total) = (d.clone(), stop.clone(), total.clone());
            std::thread::spawn(move || {
                dispatcher::with_default(&d, || {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..1000 {
                            n += 1;
                            match n % 4 {
                                0 => tracing::info!(target: "broker::mqtt_broker", event = "message_published", client = n, "x"),
                                1 => tracing::warn!(target: "broker::mqtt_broker", event = "auth_failed", "x"),
                                2 => tracing::info!(target: "broker::journal_server", "legacy {}", t),
                                _ => tracing::error!(target: "broker::placement_center", event = "raft_append_failed", "x"),
                            }
                        }
                    }
                    total.fetch_add(n, Ordering::Relaxed);
                })
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("logger");
    }
    total.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64() / 2.0
}

fn main() {
    let secs = arg("--secs", 60);
    let baseline_secs = arg("--baseline-secs", 10);
    let rate = arg("--scrapes-per-sec", 50).max(1);
    let extra_series = arg("--series", 1000);
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(100_000)
        .service_for_target("broker::mqtt_broker", "mqtt-broker")
        .service_for_target("broker::placement_center", "placement-center")
        .service_for_target("broker::journal_server", "journal-server")
        .build()
        .expect("build");
    let d = Dispatch::new(tracing_subscriber::registry().with(layer));
    // Realistic scrape size: a broker with many event names.
    dispatcher::with_default(&d, || {
        for i in 0..extra_series {
            let e = format!("event_{i}");
            tracing::info!(
                service = format!("service-{}", i % 8).as_str(),
                event = e.as_str(),
                "x"
            );
        }
    });
    let server = handle
        .spawn_server("127.0.0.1:0".parse().expect("addr"))
        .expect("server");
    let addr = server.local_addr();

    println!("baseline: 2 loggers, no scrapes, {baseline_secs} s ...");
    let idle = log_for(&d, baseline_secs);

    println!("soak: 2 loggers + {rate} scrapes/s for {secs} s on {addr} ...");
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let period = Duration::from_secs_f64(1.0 / rate as f64);
            let mut next = Instant::now();
            let (mut lat, mut failed) = (Vec::new(), 0u64);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match scrape(addr) {
                    Ok(_) => lat.push(t.elapsed()),
                    Err(e) => {
                        failed += 1;
                        eprintln!("scrape failed: {e}");
                    }
                }
                next += period;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            (lat, failed)
        })
    };
    let busy = log_for(&d, secs);
    stop.store(true, Ordering::Relaxed);
    let (mut lat, failed) = scraper.join().expect("scraper");
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let series = handle.series_count();
    server.shutdown().expect("shutdown");

    println!(
        "scrapes: {} ok, {failed} failed ({series} series)",
        lat.len()
    );
    println!(
        "scrape latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "logging per thread: {:.2} M events/s without scrapes, {:.2} M events/s with ({:+.1}%)",
        idle / 1e6,
        busy / 1e6,
        (busy / idle - 1.0) * 100.0
    );
    if failed > 0 || lat.is_empty() {
        std::process::exit(1);
    }
}
