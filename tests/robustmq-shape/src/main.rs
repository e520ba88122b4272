//! RobustMQ as it is today plus the `log_metrics` appender: deserialises a
//! `logger.toml` of appenders, installs their boxed layers from a `Vec`,
//! registers the collector in the global `LazyLock<Mutex<Registry>>`, serves
//! the admin router (state `Arc<HttpState>`) on 127.0.0.1, logs under
//! RobustMQ's targets, scrapes `/metrics` over a real socket and prints the
//! body between `--- metrics ---` and `--- end ---` for the test to parse.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use robustmq_log_metrics::{LayerConfig, LogMetrics, LogMetricsHandle};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;
use tracing_subscriber::Layer;

// --- common-base/src/logging: the appender table, one variant added ---------

const LOGGER_TOML: &str = r#"
[stdout]
kind = "console"
targets = [{ path = "", level = "error" }]

[log_metrics]
kind = "log_metrics"
targets = [{ path = "", level = "info" }, { path = "openraft", level = "warn" }]
preset = "robustmq"
global_labels = { node_id = "3" }
"#;

type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync + 'static>;

#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct Configs {
    appenders: HashMap<String, Appender>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Appender {
    Console(ConsoleAppenderConfig),
    LogMetrics(LogMetricsAppenderConfig),
}

#[derive(Debug, Deserialize)]
struct TargetConfig {
    path: String,
    level: String,
}

fn filter_of(targets: &[TargetConfig]) -> Targets {
    targets.iter().fold(Targets::new(), |f, t| {
        let level: tracing::Level = t.level.parse().expect("level");
        if t.path.is_empty() {
            f.with_default(level)
        } else {
            f.with_target(t.path.clone(), level)
        }
    })
}

#[derive(Debug, Deserialize)]
struct ConsoleAppenderConfig {
    targets: Vec<TargetConfig>,
}

/// The new appender: its own `targets`, then the layer's settings flattened.
#[derive(Debug, Deserialize)]
struct LogMetricsAppenderConfig {
    #[serde(default)]
    targets: Vec<TargetConfig>,
    #[serde(flatten)]
    metrics: LayerConfig,
}

/// Parked here for common-metrics, whichever way the crates depend on each other.
static LOG_METRICS: OnceLock<LogMetricsHandle> = OnceLock::new();

impl LogMetricsAppenderConfig {
    fn create_layer(&self) -> Result<BoxedLayer, robustmq_log_metrics::Error> {
        let (layer, handle) = LogMetrics::from_layer_config(&self.metrics)?.build()?;
        let _ = LOG_METRICS.set(handle);
        Ok(layer.with_filter(filter_of(&self.targets)).boxed())
    }
}

// --- common-metrics/src/core/server.rs -------------------------------------

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

fn metrics_register_default() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap()
}

/// At start-up, after logging is initialised: the counts join the registry
/// that the admin server already serves on `http_port`; no second port.
fn register_log_metrics() {
    if let Some(handle) = LOG_METRICS.get() {
        metrics_register_default().register_collector(Box::new(handle.collector()));
    }
}

fn dump_metrics() -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &metrics_register_default()).unwrap();
    out
}

// --- admin-server: a stateful router ----------------------------------------

struct HttpState {
    cluster_name: String,
}

fn admin_router(state: Arc<HttpState>, log_metrics: &LogMetricsHandle) -> Router {
    let admin: Router<Arc<HttpState>> = Router::new()
        .route(
            "/",
            get(|State(s): State<Arc<HttpState>>| async move { s.cluster_name.clone() }),
        )
        .route("/metrics", get(|| async { dump_metrics() }));
    // RobustMQ's `/metrics` already serves the counts (collector above); the
    // handle's own router is merged at another path only to prove it merges
    // into the stateful router, before `.with_state(..)`.
    let log_router: Router<Arc<HttpState>> = log_metrics
        .router_at("/log-metrics")
        .expect("a literal path is valid");
    admin.merge(log_router).with_state(state)
}

async fn get_body(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("http response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[tokio::main]
async fn main() {
    let configs: Configs = toml::from_str(LOGGER_TOML).expect("logger.toml");
    let mut layers: Vec<BoxedLayer> = Vec::new();
    let mut names: Vec<_> = configs.appenders.keys().cloned().collect();
    names.sort();
    for name in names {
        match &configs.appenders[&name] {
            Appender::Console(c) => layers.push(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .with_filter(filter_of(&c.targets))
                    .boxed(),
            ),
            Appender::LogMetrics(c) => layers.push(c.create_layer().expect("log_metrics appender")),
        }
    }
    tracing_subscriber::registry().with(layers).init();
    register_log_metrics();
    let log_metrics = LOG_METRICS.get().expect("a log_metrics appender");

    // RobustMQ's own metric in the same registry.
    let connections = Counter::<u64>::default();
    connections.inc_by(7);
    metrics_register_default().register("mqtt_connections", "Connections accepted", connections);

    let state = Arc::new(HttpState {
        cluster_name: "shape".into(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = admin_router(state, log_metrics);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Log calls as RobustMQ's crates make them (targets are module paths).
    tracing::error!(target: "meta_service::raft::store", "raft log append failed: {}", "io");
    for _ in 0..2 {
        tracing::warn!(target: "mqtt_broker::handler::connect", event = "auth_failed", "bad password");
    }
    tracing::info!(target: "storage_engine::segment::write", event = "segment_rolled", "rolled");
    tracing::error!(target: "kafka_broker::server", event = "quote\"back\\slash\nnewline", "hostile");
    tracing::info!(target: "openraft::engine", "below the appender's openraft level: not counted");
    tracing::warn!(target: "openraft::engine", "counted under the default service");
    tracing::error!(target: "common_base::tools", "shared crate: default service");

    // The first scrape shows new series at 0 (so `rate()` sees the first count).
    let _first = get_body(addr, "/metrics").await;
    let body = get_body(addr, "/metrics").await;
    println!("--- metrics ---\n{body}--- end ---");
    let own = get_body(addr, "/log-metrics").await;
    println!("--- log-metrics ---\n{own}--- end ---");
    assert_eq!(get_body(addr, "/").await, "shape");
}
