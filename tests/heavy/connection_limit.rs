//! Bounded connections on a real loopback server: idle clients beyond
//! `max_connections` are closed at once and counted, the server's descriptors
//! stay bounded, and scrapes succeed again once the idle clients are gone.
//! A request body is refused at once, so a trickled one holds nothing.

use crate::support;

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use robustmq_log_metrics::{LogMetrics, LogMetricsHandle, ServerOptions};
use tracing_subscriber::prelude::*;

const INTERNAL_TARGET: &str = "robustmq_log_metrics::internal";

/// Raises this process's soft descriptor limit to `want` (or the hard
/// limit): the test opens thousands of client sockets itself.
fn raise_fd_limit(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
    lim.rlim_cur
}

/// The descriptors of this process that are TCP sockets bound to `port` on
/// this side: the server's listener and its accepted connections, not the
/// test's own client sockets (their local port is an ephemeral one).
fn server_sockets(port: u16) -> usize {
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                inodes.insert(format!("socket:[{}]", cols[9]));
            }
        }
    }
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|link| inodes.contains(link.to_string_lossy().as_ref()))
        .count()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Whether the server has closed this client's connection (EOF or reset).
fn closed_by_server(s: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    s.set_nonblocking(true).unwrap();
    let closed = match (&*s).read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    s.set_nonblocking(false).unwrap();
    closed
}

/// Counts the refused connections the server's warnings report.
#[derive(Clone, Default)]
struct RefusedWarnings {
    warnings: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RefusedWarnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Refused<'a>(&'a AtomicU64);
        impl tracing::field::Visit for Refused<'_> {
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if field.name() == "refused" {
                    self.0.fetch_add(value, Ordering::Relaxed);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        if event.metadata().target() == INTERNAL_TARGET {
            self.warnings.fetch_add(1, Ordering::Relaxed);
            event.record(&mut Refused(&self.refused));
        }
    }
}

/// `serve_with_options` on a thread of the test's own, with `warnings`
/// as that thread's subscriber. Stopped and joined on drop.
struct ServerThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), robustmq_log_metrics::Error>>>,
}

impl ServerThread {
    fn start(handle: LogMetricsHandle, options: ServerOptions, warnings: RefusedWarnings) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _guard =
                tracing::subscriber::set_default(tracing_subscriber::registry().with(warnings));
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(handle.serve_with_options(options, async {
                    let _ = stopped.await;
                }))
        });
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> Result<(), robustmq_log_metrics::Error> {
        let _ = self.stop.take().map(|s| s.send(()));
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn three_thousand_idle_connections_hold_at_most_the_limit_and_scrapes_resume() {
    let _alone = crate::alone();
    const CLIENTS: usize = 3000;
    const LIMIT: usize = 64;
    // The listener, and one just-accepted socket about to be closed.
    const SLACK: usize = 2;
    assert!(
        raise_fd_limit(CLIENTS as u64 + 1024) >= CLIENTS as u64 + 256,
        "the hard descriptor limit is too low for this test"
    );
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(event = "e", "x");
    });
    let port = support::free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let warnings = RefusedWarnings::default();
    let fds_before = open_fds();
    // Idle clients must be freed by the test closing them, not by the
    // header timeout: make that timeout longer than the test.
    let server = ServerThread::start(
        handle,
        ServerOptions::new(addr)
            .max_connections(LIMIT)
            .header_read_timeout(Duration::from_secs(300)),
        warnings.clone(),
    );
    support::wait_for("the server to listen", Duration::from_secs(10), || {
        support::http(addr, "GET", "/metrics", &[])
            .ok()
            .filter(|r| r.status == 200)
    });

    let start = Instant::now();
    let mut clients = Vec::with_capacity(CLIENTS);
    let mut peak_server_fds = 0;
    for i in 0..CLIENTS {
        clients.push(TcpStream::connect(addr).unwrap());
        if i % 100 == 0 {
            peak_server_fds = peak_server_fds.max(server_sockets(port));
        }
    }
    let connected_in = start.elapsed();
    // Every client is either one of the LIMIT held idle, or closed at once.
    let open = support::wait_for(
        "the server to close every connection beyond the limit",
        Duration::from_secs(30),
        || {
            peak_server_fds = peak_server_fds.max(server_sockets(port));
            let open = clients.iter().filter(|c| !closed_by_server(c)).count();
            (open <= LIMIT).then_some(open)
        },
    );
    let server_fds = server_sockets(port);
    eprintln!(
        "{CLIENTS} idle clients connected in {connected_in:?}; server sockets now {server_fds}, \
         peak {peak_server_fds}; clients still open {open}; process fds {} (before {fds_before})",
        open_fds()
    );
    assert_eq!(open, LIMIT, "the server keeps exactly its limit");
    assert!(server_fds <= LIMIT + SLACK, "{server_fds} server sockets");
    assert!(
        peak_server_fds <= LIMIT + SLACK + 2,
        "{peak_server_fds} server sockets at the peak"
    );
    // Full: a scrape is closed unanswered.
    assert!(support::http(addr, "GET", "/metrics", &[]).is_err());

    drop(clients);
    let waited = Instant::now();
    let r = support::wait_for(
        "a scrape to succeed once the idle clients are gone",
        Duration::from_secs(10),
        || {
            support::http(addr, "GET", "/metrics", &[])
                .ok()
                .filter(|r| r.status == 200)
        },
    );
    eprintln!(
        "scrape answered {:?} after the clients left",
        waited.elapsed()
    );
    // Past the first scrape (the wait above), the count itself.
    assert_eq!(
        support::sample(
            &r.text(),
            r#"robustmq_log_events_total{level="error",service="robustmq",event="e"}"#
        ),
        Some(1)
    );
    server.stop().unwrap();
    // Refused: every client but the LIMIT held, plus the one scrape refused
    // while full. Counted exactly, in few (rate-limited) warnings.
    assert_eq!(
        warnings.refused.load(Ordering::Relaxed),
        (CLIENTS - LIMIT + 1) as u64
    );
    let n = warnings.warnings.load(Ordering::Relaxed);
    assert!((1..=5).contains(&n), "{n} warnings");
}

fn server_with_short_timeouts() -> (robustmq_log_metrics::MetricsServer, SocketAddr) {
    let (_layer, handle) = LogMetrics::builder().build().unwrap();
    let server = handle
        .spawn_server_with(
            ServerOptions::new("127.0.0.1:0".parse().unwrap())
                .header_read_timeout(Duration::from_secs(2))
                .write_timeout(Duration::from_secs(2)),
        )
        .unwrap();
    let addr = server.local_addr();
    (server, addr)
}

/// Sends `head`, then trickles one body byte every 100 ms; returns the
/// response status and how long the server kept the connection open.
fn trickle(addr: SocketAddr, head: &str, chunk: &[u8]) -> (String, Duration) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "connection still open after 20 s"
        );
        let _ = s.write_all(chunk);
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let status = String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (status, start.elapsed())
}

#[test]
fn a_trickled_request_body_is_refused_at_once() {
    let _alone = crate::alone();
    let (server, addr) = server_with_short_timeouts();
    for (head, chunk) in [
        (
            "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
            &b"x"[..],
        ),
        (
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
            &b"x"[..],
        ),
        (
            "GET /other HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            &b"1\r\nx\r\n"[..],
        ),
    ] {
        let (status, open_for) = trickle(addr, head, chunk);
        eprintln!(
            "{:?}: {status:?}, closed after {open_for:?}",
            head.lines().next()
        );
        assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{head}");
        assert!(
            open_for < Duration::from_secs(2),
            "{head}: open for {open_for:?}"
        );
    }
    // No body, or an empty one, is a scrape.
    let r = support::http(addr, "GET", "/metrics", &[("Content-Length", "0")]).unwrap();
    assert_eq!(r.status, 200);
    server.shutdown().unwrap();
}

#[test]
fn an_idle_connection_is_closed_after_the_header_timeout() {
    let _alone = crate::alone();
    let (server, addr) = server_with_short_timeouts();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let held = start.elapsed();
    assert!(
        held >= Duration::from_millis(1500) && held < Duration::from_secs(6),
        "held {held:?}"
    );
    server.shutdown().unwrap();
}
