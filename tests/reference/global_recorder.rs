//! `install_recorder()`: the application's own `metrics` counters appear on the
//! same endpoint as the log families. It sets the process-wide
//! `metrics` recorder: no other test of its binary uses `metrics`.

#![cfg(feature = "metrics-recorder")]

use crate::support;

use robustmq_log_metrics::{Error, LogMetrics};
use tracing_subscriber::prelude::*;

#[test]
fn app_metrics_share_the_endpoint_and_a_second_install_is_an_error() {
    let (layer, handle) = LogMetrics::builder().install_recorder().unwrap();
    metrics::describe_counter!("app_requests_total", "Requests the app served.");
    metrics::counter!("app_requests_total", "route" => "/publish").increment(3);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(event = "storage_error", "x");
    });
    let server = handle.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();
    let _ = support::get(server.local_addr(), "/metrics");
    let samples = support::parse(&support::get(server.local_addr(), "/metrics").text());
    let app = samples
        .iter()
        .find(|s| s.name == "app_requests_total")
        .expect("app counter");
    assert_eq!(app.value, 3.0);
    assert_eq!(app.labels["route"], "/publish");
    let log = samples
        .iter()
        .find(|s| s.name == "robustmq_log_events_total" && s.labels["event"] == "storage_error")
        .expect("log counter");
    assert_eq!(log.value, 1.0);
    server.shutdown().unwrap();

    let e = LogMetrics::builder().install_recorder().unwrap_err();
    assert!(matches!(e, Error::RecorderAlreadyInstalled), "{e:?}");
}
