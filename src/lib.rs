//! Log-derived metrics for RobustMQ and any service that logs with `tracing`.
//!
//! [`LogMetricsLayer`] counts every tracing event in-process, from the event
//! itself (no formatting, no log parsing), into
//!
//! | family | type | labels |
//! |---|---|---|
//! | `robustmq_log_events_total` | counter | global labels, `level`, `service`, `event` |
//! | `robustmq_log_label_overflow_total` | counter | global labels, `service` |
//!
//! and [`LogMetricsHandle`] renders them for Prometheus, directly
//! ([`render`](LogMetricsHandle::render)), as an axum router
//! ([`router`](LogMetricsHandle::router)), or on a server of its own
//! ([`spawn_server`](LogMetricsHandle::spawn_server)).
//!
//! # Quick start
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//! use robustmq_log_metrics::LogMetrics;
//!
//! let (metrics_layer, handle) = LogMetrics::builder()
//!     .default_service("robustmq")
//!     .service_for_target("mqtt_broker", "mqtt-broker")
//!     .global_label("node_id", "1")
//!     .build()?;
//! tracing_subscriber::registry().with(metrics_layer).init();
//! let _server = handle.spawn_server("127.0.0.1:9477".parse().unwrap())?;
//! tracing::error!(event = "storage_error", "rocksdb write failed");
//! # Ok::<(), robustmq_log_metrics::Error>(())
//! ```
//!
//! # Labels
//!
//! - `level`: `error`, `warn`, `info`, `debug`, `trace`.
//! - `service`: the event's `service` field when present and not empty; else
//!   the service of the longest matching target prefix; else the default service.
//! - `event`: the value of the `event` field (strings as is, other types as
//!   their `Debug`/`Display` text); `unstructured` when the event has none.
//! - Values are kept exactly, escaped correctly, up to `max_label_len` bytes.
//!
//! At most `max_events_per_service` event values per service and
//! `max_services` services: further values are counted as `overflow`, so no
//! count is ever lost and the series count stays bounded.
//!
//! A new series is rendered as 0 the first time it is scraped and with its
//! count from the next scrape on: Prometheus ignores the first sample of a
//! series for `rate()` and `increase()`, so a series born at 1 would hide a
//! single rare error.
//!
//! # Features
//!
//! - `prometheus-client`: `LogMetricsHandle::collector()` exposes the counts as
//!   a `prometheus_client` collector, for a broker that serves its own registry.
//! - `tls`: the server speaks HTTPS (rustls) with `ServerOptions::tls`.
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

mod builder;
mod config;
mod counters;
mod error;
mod handle;
mod http;
mod labels;
mod layer;
#[cfg(feature = "prometheus-client")]
mod prom_client;
mod render;

pub use builder::{
    LogMetrics, LogMetricsBuilder, DEFAULT_MAX_EVENTS_PER_SERVICE, DEFAULT_MAX_LABEL_LEN,
    DEFAULT_MAX_SERVICES, MAX_EVENTS_PER_SERVICE_LIMIT, MAX_LABEL_LEN_LIMIT, MAX_SERVICES_LIMIT,
};
pub use config::{AuthConfig, LogMetricsConfig, TlsConfig};
pub use error::Error;
pub use handle::LogMetricsHandle;
#[cfg(feature = "tls")]
pub use http::TlsFiles;
pub use http::{
    Auth, MetricsServer, RouteOptions, ServerOptions, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN,
    DEFAULT_MAX_CONCURRENT_SCRAPES, DEFAULT_MAX_CONNECTIONS, DEFAULT_PATH, DEFAULT_WRITE_TIMEOUT,
    MAX_CONCURRENT_SCRAPES_LIMIT, MAX_CONNECTIONS_LIMIT, MAX_PATH_LEN, MAX_TIMEOUT, MIN_TIMEOUT,
};
pub use labels::{OVERFLOW, RESERVED_VALUES, UNSTRUCTURED};
pub use layer::LogMetricsLayer;
#[cfg(feature = "prometheus-client")]
pub use prom_client::LogMetricsCollector;
pub use render::{CONTENT_TYPE, EVENTS_METRIC, OVERFLOW_METRIC};
