//! Endpoint hardening, each against the real server on loopback: methods,
//! paths, slow clients, concurrent-scrape bound, gzip, auth, shutdown.

use crate::support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use robustmq_log_metrics::{Auth, LogMetrics, LogMetricsHandle, ServerOptions};
use support::{http, parse};
use tracing_subscriber::prelude::*;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn handle_with_series(n: usize) -> LogMetricsHandle {
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(100_000)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..n {
            let e = format!("event_{i}");
            tracing::info!(event = e.as_str(), "x");
        }
    });
    handle
}

#[test]
fn only_get_and_head_on_the_metrics_path() {
    let handle = handle_with_series(3);
    let server = handle.spawn_server(loopback()).unwrap();
    let addr = server.local_addr();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = http(addr, method, "/metrics", &[("Content-Length", "0")]).unwrap();
        assert_eq!(r.status, 405, "{method}");
        let allow = r.header("allow").unwrap_or_default();
        assert!(
            allow.contains("GET") && allow.contains("HEAD"),
            "{method}: Allow {allow:?}"
        );
    }
    for path in ["/", "/metrics/", "/metricsx", "/admin", "/../etc/passwd"] {
        assert_eq!(http(addr, "GET", path, &[]).unwrap().status, 404, "{path}");
    }
    assert_eq!(http(addr, "HEAD", "/metrics", &[]).unwrap().status, 200);
    server.shutdown().unwrap();
}

#[test]
fn a_client_that_sends_headers_slowly_is_disconnected() {
    let handle = handle_with_series(1);
    let server = handle
        .spawn_server_with(
            ServerOptions::new(loopback()).header_read_timeout(Duration::from_millis(500)),
        )
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Never finish the headers; the server must close the connection.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "connection held for {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(400),
        "closed too early: {waited:?}"
    );
    // The server still serves well-behaved clients.
    assert_eq!(support::get(server.local_addr(), "/metrics").status, 200);
    server.shutdown().unwrap();
}

#[test]
fn excess_concurrent_scrapes_get_503_fast_and_the_rest_succeed() {
    // Enough series that one render takes a while in a debug build.
    let handle = handle_with_series(60_000);
    let server = handle
        .spawn_server_with(
            ServerOptions::new(loopback())
                .max_concurrent_scrapes(1)
                .gzip(false),
        )
        .unwrap();
    let addr = server.local_addr();
    let (ok, refused) = support::wait_for(
        "a round with both 200 and 503",
        Duration::from_secs(60),
        || {
            let clients = 8;
            let barrier = Arc::new(Barrier::new(clients));
            let results: Vec<(u16, Duration, usize)> = (0..clients)
                .map(|_| {
                    let b = barrier.clone();
                    std::thread::spawn(move || {
                        b.wait();
                        let t = Instant::now();
                        let r = http(addr, "GET", "/metrics", &[]).unwrap();
                        (r.status, t.elapsed(), r.body.len())
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect();
            assert!(
                results.iter().all(|(s, _, _)| *s == 200 || *s == 503),
                "{results:?}"
            );
            let ok: Vec<_> = results.iter().filter(|r| r.0 == 200).cloned().collect();
            let refused: Vec<_> = results.iter().filter(|r| r.0 == 503).cloned().collect();
            (!ok.is_empty() && !refused.is_empty()).then_some((ok, refused))
        },
    );
    // A refused scrape is answered without waiting for a render.
    let fastest_ok = ok.iter().map(|r| r.1).min().unwrap();
    let slowest_refused = refused.iter().map(|r| r.1).max().unwrap();
    assert!(ok.iter().all(|r| r.2 > 1_000_000), "full bodies");
    assert!(
        slowest_refused <= fastest_ok * 2 + Duration::from_millis(50),
        "503s took {slowest_refused:?}, a render {fastest_ok:?}"
    );
    server.shutdown().unwrap();
}

#[test]
fn gzip_when_asked_and_the_body_is_the_same() {
    let handle = handle_with_series(200);
    let server = handle.spawn_server(loopback()).unwrap();
    let addr = server.local_addr();
    let plain = http(addr, "GET", "/metrics", &[]).unwrap();
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = http(addr, "GET", "/metrics", &[("Accept-Encoding", "gzip")]).unwrap();
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(
        zipped.body.len() * 3 < text.len(),
        "gzip should shrink the exposition"
    );
    assert_eq!(parse(&text).len(), parse(&plain.text()).len());
    server.shutdown().unwrap();
}

#[test]
fn bearer_token_auth() {
    let handle = handle_with_series(1);
    let server = handle
        .spawn_server_with(ServerOptions::new(loopback()).auth(Auth::Bearer("s3cret".into())))
        .unwrap();
    let addr = server.local_addr();
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Authorization", "Bearer s3cre")],
        vec![("Authorization", "Basic czNjcmV0")],
    ] {
        let r = http(addr, "GET", "/metrics", &headers).unwrap();
        assert_eq!(r.status, 401, "{headers:?}");
        assert!(
            r.header("www-authenticate")
                .unwrap_or_default()
                .starts_with("Bearer"),
            "{r:?}"
        );
        assert_eq!(r.text(), "unauthorized\n");
    }
    let r = http(
        addr,
        "GET",
        "/metrics",
        &[("Authorization", "Bearer s3cret")],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        support::sample(
            &r.text(),
            r#"robustmq_log_events_total{level="info",service="robustmq",event="event_0"}"#
        ),
        Some(0)
    );
    server.shutdown().unwrap();
}

#[test]
fn basic_auth_from_config() {
    let cfg = robustmq_log_metrics::LogMetricsConfig::from_toml(
        "[log_metrics]\nlisten = \"127.0.0.1:0\"\n[log_metrics.auth]\nusername = \"prom\"\npassword = \"pa:ss\"\n",
    )
    .unwrap();
    let (_layer, handle) = LogMetrics::from_config(&cfg).unwrap().build().unwrap();
    let server = handle
        .spawn_server_with(cfg.server_options().unwrap())
        .unwrap();
    let addr = server.local_addr();
    let r = http(addr, "GET", "/metrics", &[]).unwrap();
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap_or_default()
        .starts_with("Basic"));
    // base64("prom:pa:ss")
    let r = http(
        addr,
        "GET",
        "/metrics",
        &[("Authorization", "Basic cHJvbTpwYTpzcw==")],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let r = http(
        addr,
        "GET",
        "/metrics",
        &[("Authorization", "Basic cHJvbTpwYXNz")],
    )
    .unwrap();
    assert_eq!(r.status, 401);
    server.shutdown().unwrap();
    // Half-configured auth is an error naming the key.
    let e = robustmq_log_metrics::LogMetricsConfig::from_toml(
        "[log_metrics.auth]\nusername = \"prom\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("log_metrics.auth"), "{e}");
}

/// The body of a raw `Connection: close` response, checked to be as long
/// as its `Content-Length` says.
fn complete_body(raw: &[u8]) -> String {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let body = String::from_utf8(raw[split + 4..].to_vec()).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    assert_eq!(body.len(), len, "the scrape was cut short");
    body
}

#[test]
fn shutdown_never_truncates_a_scrape_and_logging_goes_on() {
    const CLIENTS: usize = 6;
    let (layer, handle) = LogMetrics::builder()
        .max_events_per_service(100_000)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20_000 {
            let e = format!("event_{i}");
            tracing::info!(event = e.as_str(), "x");
        }
    });
    let server = handle
        .spawn_server_with(
            ServerOptions::new(loopback())
                .gzip(false)
                .max_concurrent_scrapes(CLIENTS),
        )
        .unwrap();
    let addr = server.local_addr();
    let (started, scrape_started) = std::sync::mpsc::channel();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let started = started.clone();
            std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
                let mut s = TcpStream::connect(addr)?;
                s.set_read_timeout(Some(Duration::from_secs(30)))?;
                s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                let mut raw = vec![0u8; 12];
                s.read_exact(&mut raw)?;
                let _ = started.send(());
                s.read_to_end(&mut raw)?;
                Ok(raw)
            })
        })
        .collect();
    // Every scrape is answering (the rest of its body not yet read) when
    // the shutdown starts.
    for _ in 0..CLIENTS {
        scrape_started
            .recv_timeout(Duration::from_secs(60))
            .expect("every scrape to start");
    }
    server.shutdown().unwrap();
    for c in clients {
        let body = complete_body(&c.join().unwrap().unwrap());
        assert!(parse(&body).len() > 20_000);
    }
    assert!(TcpStream::connect(addr).is_err(), "still listening");
    // The server is gone; the layer still counts.
    tracing::dispatcher::with_default(&dispatch, || tracing::error!(event = "after_shutdown", "x"));
    assert_eq!(handle.count("error", "robustmq", "after_shutdown"), Some(1));
}

#[test]
fn a_layer_without_a_server_counts_and_two_instances_do_not_mix() {
    let (a_layer, a) = LogMetrics::builder().default_service("a").build().unwrap();
    let (b_layer, b) = LogMetrics::builder().default_service("b").build().unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(a_layer)
        .with(b_layer.with_filter(tracing_subscriber::filter::LevelFilter::ERROR));
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!(event = "e", "x");
        tracing::info!(event = "i", "x");
    });
    assert_eq!(a.count("error", "a", "e"), Some(1));
    assert_eq!(a.count("info", "a", "i"), Some(1));
    assert_eq!(b.count("error", "b", "e"), Some(1));
    assert_eq!(b.count("info", "b", "i"), None);
    assert_eq!(a.total_events(), 2);
    assert_eq!(b.total_events(), 1);
}

#[test]
fn graceful_shutdown_finishes_a_scrape_in_flight() {
    // A body far larger than the socket buffers: the server is still writing
    // it while the client has read only its first bytes.
    let handle = handle_with_series(100_000);
    let server = handle
        .spawn_server_with(ServerOptions::new(loopback()).gzip(false))
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    s.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // The scrape is in flight: shut down while it is, from another thread.
    let stopper = std::thread::spawn(move || server.shutdown());
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    stopper.join().unwrap().unwrap();
    let raw = [&first[..], &rest[..]].concat();
    assert!(parse(&complete_body(&raw)).len() > 100_000);
}

#[test]
fn a_slow_reader_is_served_whole_and_a_stalled_one_is_cut() {
    let handle = handle_with_series(100_000);
    let size = support::settled(&handle).len();
    // The kernel takes writes again only once a third or so of the socket's
    // send buffer (up to 4 MiB) has drained: a reader at 2.5 MB/s leaves the
    // writer waiting about half a second at a time, well under the timeout.
    let write_timeout = Duration::from_secs(2);
    let server = handle
        .spawn_server_with(
            ServerOptions::new(loopback())
                .gzip(false)
                .write_timeout(write_timeout),
        )
        .unwrap();
    let request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    // Reads 256 KiB, pauses 100 ms, again: every pause is shorter than the
    // write timeout, the whole transfer much longer.
    let mut slow = TcpStream::connect(server.local_addr()).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    slow.write_all(request).unwrap();
    let start = Instant::now();
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = slow.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = start.elapsed();
    assert!(took > write_timeout, "not slow enough to test: {took:?}");
    assert_eq!(complete_body(&raw).len(), size);

    // Reads the status line, then nothing for two and a half write timeouts.
    let mut stalled = TcpStream::connect(server.local_addr()).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stalled.write_all(request).unwrap();
    let mut raw = vec![0u8; 12];
    stalled.read_exact(&mut raw).unwrap();
    assert_eq!(&raw, b"HTTP/1.1 200");
    std::thread::sleep(write_timeout * 5 / 2);
    let cut = match stalled.read_to_end(&mut raw) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(cut, "the stalled connection was not closed");
    assert!(raw.len() < size, "a stalled client got the whole body");
    server.shutdown().unwrap();
}
