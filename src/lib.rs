//! Log-derived metrics for RobustMQ and any service that logs with `tracing`.
//!
//! [`LogMetricsLayer`] counts every tracing event in-process, from the event
//! itself (no formatting, no log parsing), into
//!
//! | family | type | labels |
//! |---|---|---|
//! | `robustmq_log_events_total` | counter | global labels, `level`, `service`, `event` |
//! | `robustmq_log_label_overflow_total` | counter | global labels, `service` |
//! | `robustmq_log_label_limit` | gauge | global labels, `kind` (`events_per_service`, `services`): the caps |
//!
//! and, for each log appender whose writer is wrapped with
//! [`LogMetricsHandle::appender`] (see [`AppenderMetrics`]), what leaves the
//! process through it:
//!
//! | family | type | labels |
//! |---|---|---|
//! | `robustmq_log_appender_lines_total` | counter | global labels, `appender` |
//! | `robustmq_log_appender_bytes_total` | counter | global labels, `appender` |
//! | `robustmq_log_appender_dropped_lines_total` | counter | global labels, `appender` |
//! | `robustmq_log_appender_suppressed_lines_total` | counter | global labels, `appender` |
//!
//! [`LogMetricsHandle`] renders them for Prometheus, directly
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
//! let broker_id: u64 = 1;
//! let (metrics_layer, handle) = LogMetrics::builder()
//!     .robustmq_services() // meta_service -> meta-service, mqtt_broker -> mqtt-broker, ...
//!     .global_label("node_id", broker_id)
//!     .build()?;
//! tracing_subscriber::registry().with(metrics_layer).init();
//! let _server = handle.spawn_server("127.0.0.1:9477".parse().unwrap())?;
//! tracing::error!(event = "storage_error", "rocksdb write failed");
//! # Ok::<(), robustmq_log_metrics::Error>(())
//! ```
//!
//! # Labels
//!
//! - `level`: `error`, `warn`, `info`, `debug`, `trace` ([`LEVEL_NAMES`]).
//! - `service`: the event's `service` field when present and not empty; else
//!   the service of the longest matching target prefix (a plain string
//!   prefix, as `EnvFilter` matches targets); else the default service.
//! - `event`: the value of the `event` field (strings as is, other types as
//!   their `Debug`/`Display` text); `unstructured` when the event has none,
//!   or its call site (`module::path:line`) with
//!   [`UnstructuredEvents::Callsite`].
//! - [`RESERVED_VALUES`] never make a second series: a logged event value
//!   `unstructured` or `overflow` is counted in that reserved series.
//! - Values are kept exactly (any UTF-8), escaped so that a parser returns
//!   the value logged, up to `max_label_len` bytes, cut at a char boundary.
//!
//! An event inside spans is counted once; spans never change the count. The
//! layer never filters other layers: narrow it with `.with_filter(..)`.
//!
//! # Cardinality
//!
//! Label values come from bounded sets, so the series count is bounded
//! whatever callers log. At most `max_events_per_service` event values per
//! service: further new values are counted as `event="overflow"` and in
//! `robustmq_log_label_overflow_total{service}`, with one `warn` log per
//! service (target `robustmq_log_metrics::internal`, not itself counted). At
//! most `max_services` services: further ones are counted as
//! `service="overflow"`. No count is ever lost, and there are at most
//! `5 levels x (max_services + 1) x (max_events_per_service + 2)` event
//! series. Never put client ids, topics, addresses, connection ids or
//! messages in the `event` or `service` fields: log them as other fields,
//! which the layer ignores.
//!
//! # The first sample
//!
//! Prometheus ignores the value of a series' first sample in `rate()` and
//! `increase()`, so a series born at 1 would hide a single rare error, and an
//! alert on a new error event could never fire. A new series is therefore
//! rendered as 0 the first time it is scraped, and with its count from the
//! next scrape on: deferring by one scrape loses nothing. Call sites whose
//! labels are known when they register (no event or service field) get their
//! series at 0 right then. With several Prometheus servers scraping one
//! process (an HA pair), each needs its own 0: set
//! [`first_sample_hold`](LogMetricsBuilder::first_sample_hold) (key
//! `first_sample_hold_secs`) to at least their scrape interval. The appender
//! families follow the same rule.
//!
//! # Log floods
//!
//! [`LineLimit`] is a per-layer filter for a fmt layer (an appender) that
//! gives each call site a budget of lines (a burst, and a refill per
//! interval), counts the lines it suppresses in
//! `robustmq_log_appender_suppressed_lines_total{appender}`, and logs one
//! summary line per suppressed run (at most one per interval) when the call
//! site's next line passes.
//! The metrics layer, a layer of its own, still counts every event, so for
//! each appender `lines + suppressed + dropped` equals the events at its
//! levels: a flood costs bounded disk and no information.
//!
//! # Configuration
//!
//! Each setting is declared once, as a field of a serde struct whose docs
//! give its key, default and range: [`LayerConfig`] for the layer (also a
//! table of its own, e.g. one more appender of RobustMQ's `logger.toml`,
//! read with [`LogMetrics::from_layer_config`]), and, with a server of its
//! own, [`LogMetricsConfig`] (a `[log_metrics]` section: the layer's keys
//! plus [`ServerOptions`] and [`RouteOptions`], at one level). Unknown keys,
//! wrong types and bad values are errors that name the key, also where the
//! table is flattened into another config type.
//!
//! # In a `prometheus_client` registry
//!
//! A service that already serves a `prometheus_client` registry (RobustMQ's
//! admin server does) adds the counts to it with the `prometheus-client`
//! feature, and no second port is needed. Here as one more of RobustMQ's
//! boxed appender layers:
//!
//! ```
//! # #[cfg(feature = "prometheus-client")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use prometheus_client::registry::Registry;
//! use robustmq_log_metrics::{LayerConfig, LogMetrics};
//! use tracing::Level;
//! use tracing_subscriber::{filter::Targets, prelude::*, Layer};
//!
//! let mut registry = Registry::default(); // RobustMQ: common-metrics' global REGISTRY
//! let broker_id: u64 = 3;
//!
//! // The appender's settings, as in logger.toml (or LogMetrics::builder().robustmq_services()).
//! let config: LayerConfig = toml::from_str(r#"preset = "robustmq""#)?;
//! let (metrics_layer, metrics) = LogMetrics::from_layer_config(&config)?
//!     .global_label("node_id", broker_id)
//!     .build()?;
//! registry.register_collector(Box::new(metrics.collector())); // served on the admin /metrics
//!
//! let targets = Targets::new()
//!     .with_default(Level::INFO)
//!     .with_target("openraft", Level::WARN);
//! let layers: Vec<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>> =
//!     vec![metrics_layer.with_filter(targets).boxed()]; // next to the other appenders' layers
//! tracing_subscriber::registry().with(layers).init();
//!
//! tracing::warn!(target: "mqtt_broker::handler", event = "auth_failed", "bad password");
//! assert_eq!(metrics.count("warn", "mqtt-broker", "auth_failed"), Some(1));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "prometheus-client"))]
//! # fn main() {}
//! ```
//!
//! # Features
//!
//! - `http` (default): the endpoint, [`LogMetricsHandle::router`] and
//!   [`LogMetricsHandle::spawn_server`], [`ServerOptions`] and the
//!   `[log_metrics]` server section [`LogMetricsConfig`]; pulls axum, hyper
//!   and tokio. Without it (`default-features = false`) the crate is the
//!   layer, the handle's `render()` and, with `prometheus-client`, the collector.
//! - `prometheus-client`: `LogMetricsHandle::collector()` exposes the counts as
//!   a `prometheus_client` collector, for a broker that serves its own registry
//!   (any prometheus-client from 0.23.1, RobustMQ's, to 0.26).
//! - `tls`: the server speaks HTTPS (rustls) with `ServerOptions::tls`.
//! - `metrics-recorder`: `LogMetricsBuilder::install_recorder()` installs a
//!   global `metrics` recorder whose series follow the log families on the
//!   same endpoint (pulls `metrics` and `metrics-exporter-prometheus`).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod appender;
mod builder;
mod cache;
mod cardinality;
mod config;
mod error;
mod exposition;
mod handle;
#[cfg(feature = "http")]
mod http;
mod instance;
mod labels;
mod layer;
mod line_limit;
mod series;

// The README's example compiles and runs as written.
#[cfg(all(doctest, feature = "http"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use appender::{AppenderMetrics, CountingMakeWriter, CountingWriter};
pub use builder::{LogMetrics, LogMetricsBuilder};
pub use config::{LayerConfig, LineLimitConfig, Preset, UnstructuredEvents, ROBUSTMQ_SERVICES};
pub use error::Error;
pub use exposition::appenders::{
    APPENDER_BYTES_METRIC, APPENDER_DROPPED_METRIC, APPENDER_LINES_METRIC,
    APPENDER_SUPPRESSED_METRIC,
};
#[cfg(feature = "prometheus-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus-client")))]
pub use exposition::collector::LogMetricsCollector;
pub use exposition::text::CONTENT_TYPE;
pub use exposition::{EVENTS_METRIC, OVERFLOW_METRIC};
pub use handle::LogMetricsHandle;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use http::TlsFiles;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::{Auth, LogMetricsConfig, MetricsServer, RouteOptions, ServerOptions};
pub use labels::{LEVEL_NAMES, OVERFLOW, RESERVED_VALUES, UNSTRUCTURED};
pub use layer::LogMetricsLayer;
pub use line_limit::{
    LineLimit, LineLimitBuilder, ManualClock, LINES_SUPPRESSED_EVENT, LINE_LIMIT_TARGET,
};

/// The layer's defaults and the bounds `build()` checks, the bounds on
/// appenders that `LogMetricsHandle::appender` checks, and the line
/// limit's defaults and bounds.
pub mod limits {
    pub use crate::appender::{MAX_APPENDERS, MAX_APPENDER_NAME_LEN};
    pub use crate::config::{
        DEFAULT_LINE_BURST, DEFAULT_LINE_INTERVAL, DEFAULT_LINE_REFILL,
        DEFAULT_MAX_EVENTS_PER_SERVICE, DEFAULT_MAX_LABEL_LEN, DEFAULT_MAX_SERVICES,
        MAX_EVENTS_PER_SERVICE_LIMIT, MAX_FIRST_SAMPLE_HOLD, MAX_LABEL_LEN_LIMIT, MAX_LINE_BUDGET,
        MAX_LINE_INTERVAL, MAX_SERVICES_LIMIT, MIN_LINE_INTERVAL,
    };
    pub use crate::line_limit::MAX_LIMITED_CALLSITES;
}

/// The server's defaults and the bounds its options' `validate()` checks.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod server {
    pub use crate::http::{
        DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN, DEFAULT_MAX_CONCURRENT_SCRAPES,
        DEFAULT_MAX_CONNECTIONS, DEFAULT_PATH, DEFAULT_WRITE_TIMEOUT, MAX_CONCURRENT_SCRAPES_LIMIT,
        MAX_CONNECTIONS_LIMIT, MAX_PATH_LEN, MAX_TIMEOUT, MIN_TIMEOUT,
    };
}
