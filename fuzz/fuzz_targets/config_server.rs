//! Arbitrary TOML through `LogMetricsConfig::from_toml`: a config it
//! accepts must map to server options, build the layer and the router, and
//! answer a scrape at its path, all without a panic.
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use robustmq_log_metrics::{LogMetrics, LogMetricsConfig};
use tower::ServiceExt;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = LogMetricsConfig::from_toml(text) else {
        return;
    };
    let options = config
        .server_options()
        .expect("an accepted config maps to server options");
    options
        .validate()
        .expect("the options of an accepted config validate");
    let (_layer, handle) = LogMetrics::from_config(&config)
        .expect("an accepted config makes a builder")
        .build()
        .expect("an accepted config builds");
    let router: axum::Router = handle
        .router_with(&options.route)
        .expect("validated route options make a router");
    let request = Request::get(options.route.path.as_str())
        .body(Body::empty())
        .expect("a validated path is a valid URI");
    let response = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(router.oneshot(request))
        .expect("the router is infallible");
    let expected = if options.route.auth.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    assert_eq!(response.status(), expected);
});
