//! End to end: real server on loopback, events from several threads and
//! targets, scraped over HTTP, parsed by the reference parser, exact counts.
//! A binary of its own in the `reference` tier (tests/reference/main.rs):
//! its assertions cover every series of the process.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;

use robustmq_log_metrics::LogMetrics;
use support::{event_counts, get, parse};
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::prelude::*;

type Key = (String, String, String);

fn key(level: &str, service: &str, event: &str) -> Key {
    (level.into(), service.into(), event.into())
}

fn log_mix(thread: u64, rounds: u64) {
    for i in 0..rounds {
        tracing::info!(target: "app::mqtt::conn", event = "connection_accepted", protocol = "tcp", "accepted");
        tracing::error!(target: "app::mqtt::conn", event = "connection_failed", error_type = "accept_failed", "failed");
        tracing::warn!(target: "app::placement::raft", event = "node_unreachable", node = thread, "unreachable");
        tracing::info!(target: "app::journal", "legacy line {}", i);
        if i % 2 == 0 {
            tracing::error!(target: "app::mqtt::conn", service = "journal-server", event = "storage_error", "override");
        }
        tracing::debug!(target: "app::mqtt::placement_client", event = "rpc_sent", "longest prefix is app::mqtt");
    }
}

#[test]
fn scrape_over_http_gives_exact_counts_for_every_label_set() {
    let (layer, handle) = LogMetrics::builder()
        .default_service("robustmq")
        .service_for_target("app::mqtt", "mqtt-broker")
        .service_for_target("app::placement", "placement-center")
        .global_label("node_id", "7")
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let server = handle.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();
    assert!(server.local_addr().ip().is_loopback());

    let threads = 4u64;
    let rounds = 1000u64;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let d = dispatch.clone();
            std::thread::spawn(move || dispatcher::with_default(&d, || log_mix(t, rounds)))
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }

    let n = threads * rounds;
    let mut want: BTreeMap<Key, u64> = BTreeMap::new();
    want.insert(key("info", "mqtt-broker", "connection_accepted"), n);
    want.insert(key("error", "mqtt-broker", "connection_failed"), n);
    want.insert(key("warn", "placement-center", "node_unreachable"), n);
    want.insert(key("info", "robustmq", "unstructured"), n);
    want.insert(
        key("error", "journal-server", "storage_error"),
        threads * rounds.div_ceil(2),
    );
    want.insert(key("debug", "mqtt-broker", "rpc_sent"), n);

    // First scrape: every series is new, so every one is shown at 0.
    let first = get(server.local_addr(), "/metrics");
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let first = event_counts(&parse(&first.text()));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    assert!(
        first.values().all(|v| *v == 0),
        "first scrape must show 0: {first:?}"
    );

    let second = parse(&get(server.local_addr(), "/metrics").text());
    assert_eq!(event_counts(&second), want);
    for s in &second {
        assert_eq!(
            s.labels.get("node_id").map(String::as_str),
            Some("7"),
            "{s:?}"
        );
        // Counters, but for the caps' gauges.
        let kind = if s.name == "robustmq_log_label_limit" {
            "gauge"
        } else {
            "counter"
        };
        assert_eq!(s.kind, kind, "{s:?}");
        assert!(!s.help.is_empty());
    }
    // Every service has its overflow counter, at 0.
    let overflow: BTreeMap<_, _> = second
        .iter()
        .filter(|s| s.name == "robustmq_log_label_overflow_total")
        .map(|s| (s.labels["service"].clone(), s.value))
        .collect();
    for svc in [
        "robustmq",
        "mqtt-broker",
        "placement-center",
        "journal-server",
    ] {
        assert_eq!(
            overflow.get(svc),
            Some(&0.0),
            "overflow counter of {svc}: {overflow:?}"
        );
    }
    assert_eq!(handle.total_events(), want.values().sum::<u64>());
    server.shutdown().unwrap();
}

#[test]
fn promtool_check_metrics_finds_nothing_on_a_live_scrape() {
    let (layer, handle) = LogMetrics::builder()
        .global_label("node_id", "1")
        .service_for_target("app::mqtt", "mqtt-broker")
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    dispatcher::with_default(&dispatch, || log_mix(0, 3));
    let server = handle.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();
    for _ in 0..2 {
        let text = get(server.local_addr(), "/metrics").text();
        support::assert_promtool_clean(&text);
    }
    server.shutdown().unwrap();
}

#[test]
fn router_answers_head_rejects_other_methods_and_paths() {
    // `router()` served by axum itself on a real socket, as an application would.
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    dispatcher::with_default(&dispatch, || log_mix(0, 2));
    // Dropping `_rt` at the end (or on a failed assertion) stops the server.
    let (_rt, addr) = support::serve_router(handle.router());

    let head = support::http(addr, "HEAD", "/metrics", &[]).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = support::http(addr, "POST", "/metrics", &[("Content-Length", "0")]).unwrap();
    assert_eq!(post.status, 405);
    assert!(
        post.header("allow").unwrap_or("").contains("GET"),
        "{post:?}"
    );
    assert_eq!(get(addr, "/other").status, 404);
    let _ = get(addr, "/metrics");
    let counts = event_counts(&parse(&get(addr, "/metrics").text()));
    assert_eq!(
        counts.get(&key("info", "robustmq", "connection_accepted")),
        Some(&2)
    );
}
