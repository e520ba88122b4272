//! Memory bounded by `max_concurrent_scrapes` responses: clients that ask
//! for a multi-megabyte exposition and never read it pin at most that many
//! responses, and the write timeout disconnects them. Alone while it runs
//! (`crate::alone`): it measures this process's resident memory.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use robustmq_log_metrics::{LogMetrics, ServerOptions};
use tracing_subscriber::prelude::*;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

#[test]
fn clients_that_never_read_pin_at_most_max_concurrent_scrapes_responses() {
    let _alone = crate::alone();
    const CLIENTS: usize = 150;
    const SCRAPES: usize = 4;
    const WRITE_TIMEOUT: Duration = Duration::from_secs(4);
    // Clients arrive over about 2 s, all before the write timeout frees a
    // slot: a scrape slot released early would let later ones render too.
    const ARRIVAL_GAP: Duration = Duration::from_millis(15);
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(100_000)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..100_000 {
            let e = format!("a_rather_long_event_name_so_the_exposition_is_large_{i}");
            tracing::info!(event = e.as_str(), "x");
        }
    });
    let size = support::settled(&handle).len() as u64;
    assert!(size > 8_000_000, "exposition of {size} bytes");
    let server = handle
        .spawn_server_with(
            ServerOptions::new("127.0.0.1:0".parse().unwrap())
                .max_concurrent_scrapes(SCRAPES)
                .max_connections(CLIENTS + 16)
                .write_timeout(WRITE_TIMEOUT)
                // Closes the idle connections of the refused clients too.
                .header_read_timeout(WRITE_TIMEOUT)
                .gzip(false),
        )
        .unwrap();
    let addr = server.local_addr();
    // One full scrape first, so the baseline includes what any scrape costs.
    assert_eq!(support::get(addr, "/metrics").status, 200);
    let baseline = resident_bytes();

    let start = Instant::now();
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            std::thread::sleep(ARRIVAL_GAP);
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    // Watch memory until the write timeout has had time to act.
    let mut peak = resident_bytes();
    while start.elapsed() < WRITE_TIMEOUT + Duration::from_secs(3) {
        peak = peak.max(resident_bytes());
        std::thread::sleep(Duration::from_millis(20));
    }
    let grew = peak.saturating_sub(baseline);
    let bound = (SCRAPES as u64 + 1) * size + 32 * 1024 * 1024;
    eprintln!(
        "{CLIENTS} clients that never read a {:.1} MB exposition: resident memory +{:.1} MB at the peak (bound {:.1} MB)",
        size as f64 / 1e6,
        grew as f64 / 1e6,
        bound as f64 / 1e6
    );
    assert!(grew <= bound, "resident memory grew by {grew} bytes");

    // Each client got a whole 503 at once, or a 200 whose body the write
    // timeout cut: none is still held open.
    let (mut ok, mut refused) = (0, 0);
    for mut c in clients {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut raw = Vec::new();
        match c.read_to_end(&mut raw) {
            Ok(_) => {}
            Err(e) => assert!(
                !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                "a client that never read is still connected"
            ),
        }
        if raw.starts_with(b"HTTP/1.1 200") {
            ok += 1;
            assert!((raw.len() as u64) < size, "a stalled body was cut short");
        } else {
            assert!(
                raw.starts_with(b"HTTP/1.1 503"),
                "{:?}",
                String::from_utf8_lossy(&raw[..raw.len().min(100)])
            );
            refused += 1;
        }
    }
    eprintln!("{ok} scrapes answered 200 and cut by the write timeout, {refused} refused with 503");
    assert_eq!(
        ok, SCRAPES,
        "only the scrapes holding a permit were answered"
    );
    assert_eq!(refused, CLIENTS - SCRAPES);
    // The permits came back with the cut connections.
    assert_eq!(support::get(addr, "/metrics").status, 200);
    server.shutdown().unwrap();
}
