//! A single rare error is visible to `increase()` in a real Prometheus,
//! because a new series is scraped at 0 before its count shows. A control
//! target whose series is born at 1 shows why this matters: there
//! `increase()` stays 0.

use crate::support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use robustmq_log_metrics::LogMetrics;
use support::{wait_for, Prometheus};
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::prelude::*;

#[test]
fn one_single_error_shows_in_increase_over_one_minute() {
    let (layer, handle) = LogMetrics::builder()
        .default_service("mqtt-broker")
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let server = handle.spawn_server("127.0.0.1:0".parse().unwrap()).unwrap();

    // Control: a counter that appears directly at 1, as a naive exporter does.
    let born = Arc::new(AtomicBool::new(false));
    let control = {
        let born = born.clone();
        let router = axum::Router::new().route(
            "/metrics",
            get(move || {
                let born = born.load(Ordering::SeqCst);
                async move {
                    let mut body = String::from("# TYPE alive gauge\nalive 1\n");
                    if born {
                        body.push_str("# TYPE born_at_one_total counter\nborn_at_one_total{event=\"rare\"} 1\n");
                    }
                    body
                }
            }),
        );
        support::serve_router(router)
    };

    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: broker\n    static_configs:\n      - targets: ['{}']\n  - job_name: control\n    static_configs:\n      - targets: ['{}']\n",
        server.local_addr(),
        control.1
    );
    let prom = Prometheus::start(&config, &[]);
    // Both targets scraped at least once before the error happens.
    wait_for("both targets up", Duration::from_secs(30), || {
        let up = prom.vector("up == 1");
        (up.len() == 2).then_some(())
    });

    dispatcher::with_default(&dispatch, || {
        tracing::error!(event = "rare_failure", "this happens once a week");
    });
    born.store(true, Ordering::SeqCst);

    // Wait until Prometheus holds the count itself and, for the control, two
    // samples (increase() needs two), then look at increase().
    wait_for(
        "the error counted in prometheus",
        Duration::from_secs(30),
        || {
            let v = prom.vector("robustmq_log_events_total{event=\"rare_failure\"} == 1");
            let c = prom.vector("count_over_time(born_at_one_total[1m]) >= 2");
            (v.len() == 1 && c.len() == 1).then_some(())
        },
    );
    let inc = prom.vector("increase(robustmq_log_events_total{event=\"rare_failure\"}[1m])");
    assert_eq!(inc.len(), 1, "{inc:?}");
    assert!(
        inc[0].1 > 0.0,
        "increase() must see the single error: {inc:?}"
    );
    let control_inc = prom.vector("increase(born_at_one_total[1m])");
    assert_eq!(control_inc.len(), 1, "{control_inc:?}");
    assert_eq!(
        control_inc[0].1, 0.0,
        "a series born at 1 is invisible to increase()"
    );
    prom.stop();
    server.shutdown().unwrap();
}

#[test]
fn a_first_sample_hold_gives_every_scraper_of_an_ha_pair_its_zero() {
    let hold = Duration::from_millis(400);
    let (layer, handle) = LogMetrics::builder()
        .first_sample_hold(hold)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(event = "rare_failure", "x");
    });
    let value = |text: &str| {
        text.lines()
            .find(|l| l.contains("event=\"rare_failure\""))
            .and_then(|l| l.rsplit(' ').next())
            .map(|v| v.parse::<u64>().unwrap())
    };
    let start = std::time::Instant::now();
    // Replica A's scrape, then replica B's: both see 0.
    assert_eq!(value(&handle.render()), Some(0));
    assert_eq!(value(&handle.render()), Some(0));
    let shown = wait_for("the count after the hold", Duration::from_secs(10), || {
        (value(&handle.render()) == Some(1)).then(std::time::Instant::now)
    });
    assert!(
        shown - start >= hold,
        "count shown after {:?}",
        shown - start
    );
    // Out of range: a typed error naming the setting.
    let e = LogMetrics::builder()
        .first_sample_hold(Duration::from_secs(7200))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("first_sample_hold"), "{e}");
}
