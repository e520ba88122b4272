//! The builder: plain settings and their validation; no I/O, no global state.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{LayerConfig, Preset, UnstructuredEvents};
use crate::error::Error;
use crate::handle::LogMetricsHandle;
#[cfg(feature = "http")]
use crate::http::LogMetricsConfig;
use crate::instance::{ExtraExposition, Instance};
use crate::labels::LEVEL_NAMES;
use crate::layer::LogMetricsLayer;

/// Entry point: `LogMetrics::builder()` or `LogMetrics::from_layer_config(..)`.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let (layer, handle) = robustmq_log_metrics::LogMetrics::builder()
///     .default_service("mqtt-broker")
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::error!(event = "storage_error", "disk full");
/// });
/// assert_eq!(handle.count("error", "mqtt-broker", "storage_error"), Some(1));
/// # Ok::<(), robustmq_log_metrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LogMetrics;

impl LogMetrics {
    /// A builder with the defaults documented on each setter.
    pub fn builder() -> LogMetricsBuilder {
        LogMetricsBuilder::default()
    }

    /// A builder holding the layer settings of `config`, checked first
    /// (unknown keys included), to `build()` as is or adjust further: e.g.
    /// RobustMQ's `log_metrics` appender, whose layer the admin server's
    /// registry serves (no server here).
    ///
    /// ```
    /// use robustmq_log_metrics::{LayerConfig, LogMetrics};
    /// let config = LayerConfig::from_toml("preset = \"robustmq\"\nglobal_labels = { node_id = \"3\" }")?;
    /// let (layer, handle) = LogMetrics::from_layer_config(&config)?
    ///     .service_for_target("my_plugin", "plugin")
    ///     .build()?;
    /// # let _ = (layer, handle);
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    pub fn from_layer_config(config: &LayerConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        Ok(LogMetricsBuilder::from_config(config.clone()))
    }

    /// A builder holding everything in `config` (checked first), to `build()`
    /// as is or adjust further.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn from_config(config: &LogMetricsConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        LogMetrics::from_layer_config(&config.layer)
    }
}

/// Settings for the layer and handle: a [`LayerConfig`] that the setters
/// write. Setters take and return `self`; all checks happen in
/// [`build`](Self::build), which returns the first problem.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct LogMetricsBuilder {
    config: LayerConfig,
}

impl LogMetricsBuilder {
    pub(crate) fn from_config(config: LayerConfig) -> Self {
        Self { config }
    }

    /// The `service` of events that have no service field and match no target
    /// prefix. Default: `"robustmq"`. Must not be empty nor a reserved value
    /// ([`RESERVED_VALUES`](crate::RESERVED_VALUES)).
    pub fn default_service(mut self, service: &str) -> Self {
        self.config.default_service = service.to_owned();
        self
    }

    /// Events whose target starts with `prefix` get `service`, unless they carry
    /// their own service field. When several prefixes match, the longest wins;
    /// matching is a plain string prefix, as in `EnvFilter` directives. An
    /// explicit entry wins over a preset entry for the same prefix, whatever
    /// the order of the calls. `service` must not be a reserved value.
    /// Default: none.
    pub fn service_for_target(mut self, prefix: &str, service: &str) -> Self {
        self.config
            .services
            .push((prefix.to_owned(), service.to_owned()));
        self
    }

    /// Maps every logging crate of RobustMQ to its service
    /// ([`ROBUSTMQ_SERVICES`](crate::ROBUSTMQ_SERVICES): `meta_service` ->
    /// `meta-service`, `mqtt_broker` -> `mqtt-broker`, ..., and of the shared
    /// crates `network_server` -> `network-server`, `common_security` ->
    /// `security`), the `preset = "robustmq"` of the configuration.
    /// [`service_for_target`](Self::service_for_target) entries win over these.
    /// Default: no preset.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// let (layer, handle) = robustmq_log_metrics::LogMetrics::builder()
    ///     .robustmq_services()
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::warn!(target: "meta_service::raft::store", event = "raft_snapshot_slow", "slow");
    /// });
    /// assert_eq!(handle.count("warn", "meta-service", "raft_snapshot_slow"), Some(1));
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    pub fn robustmq_services(mut self) -> Self {
        self.config.preset = Some(Preset::Robustmq);
        self
    }

    /// What `event` says for events without an event field. Default:
    /// [`UnstructuredEvents::Unstructured`]. With
    /// [`UnstructuredEvents::Callsite`] the value is the call site's
    /// `module_path:line`, which changes when code moves.
    pub fn unstructured(mut self, mode: UnstructuredEvents) -> Self {
        self.config.unstructured = mode;
        self
    }

    /// Name of the field whose value becomes the `event` label. Default: `"event"`.
    pub fn event_field(mut self, name: &str) -> Self {
        self.config.event_field = name.to_owned();
        self
    }

    /// Name of the field whose value, when present and not empty, becomes the
    /// `service` label. Default: `"service"`.
    pub fn service_field(mut self, name: &str) -> Self {
        self.config.service_field = name.to_owned();
        self
    }

    /// A constant label on every series, e.g. `node_id`. Default: none.
    /// The name must be a valid Prometheus label name other than `level`,
    /// `service`, `event` and `appender`; the value, anything `Display` (a broker id as
    /// `u64`, a `&str`, a `String`), must not be empty.
    ///
    /// ```
    /// let broker_id: u64 = 3;
    /// let builder = robustmq_log_metrics::LogMetrics::builder()
    ///     .global_label("node_id", broker_id)
    ///     .global_label("cluster", "prod-eu");
    /// # let _ = builder;
    /// ```
    pub fn global_label(mut self, name: &str, value: impl Display) -> Self {
        self.config
            .global_labels
            .push((name.to_owned(), value.to_string()));
        self
    }

    /// At most this many distinct `event` values per service; later new values
    /// are counted as `event="overflow"`. Default: 256. Range: 1..=100000.
    pub fn max_events_per_service(mut self, max: usize) -> Self {
        self.config.max_events_per_service = max;
        self
    }

    /// At most this many distinct `service` values; events naming further
    /// services in their service field are counted as `service="overflow"`.
    /// Default: 64. Range: 1..=10000.
    pub fn max_services(mut self, max: usize) -> Self {
        self.config.max_services = max;
        self
    }

    /// Label values longer than this many bytes are cut at the last char
    /// boundary at or before it. Default: 128. Range: 1..=4096.
    pub fn max_label_len(mut self, max: usize) -> Self {
        self.config.max_label_len = max;
        self
    }

    /// How long a new series keeps showing 0 after its first scrape: at least
    /// the scrape interval when several Prometheus servers scrape one process
    /// (see [the first sample](crate#the-first-sample)). Counts are deferred,
    /// never lost. Default: zero (the first scrape only). At most one hour.
    pub fn first_sample_hold(mut self, hold: Duration) -> Self {
        self.config.first_sample_hold = hold;
        self
    }

    /// When `false`, the layer counts nothing (for a config switch). Default: `true`.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.config.enabled = enabled;
        self
    }

    /// Checks the settings and returns the layer to add to a subscriber and
    /// the handle that renders the counts. Touches no global state: the
    /// caller owns both, and the counts live as long as either does.
    pub fn build(self) -> Result<(LogMetricsLayer, LogMetricsHandle), Error> {
        self.config.validate()?;
        Ok(self.into_pair(None))
    }

    /// Like [`build`](Self::build), and also installs a
    /// `metrics-exporter-prometheus` recorder as the process-wide `metrics`
    /// recorder, so the application's own `metrics::counter!` and friends
    /// appear on the same endpoint after the log families. Fails if a global
    /// recorder is already installed.
    #[cfg(feature = "metrics-recorder")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics-recorder")))]
    pub fn install_recorder(self) -> Result<(LogMetricsLayer, LogMetricsHandle), Error> {
        self.config.validate()?;
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let prom = recorder.handle();
        metrics::set_global_recorder(recorder).map_err(|_| Error::RecorderAlreadyInstalled)?;
        Ok(self.into_pair(Some(Box::new(move || prom.render()))))
    }

    fn into_pair(
        self,
        extra_exposition: Option<ExtraExposition>,
    ) -> (LogMetricsLayer, LogMetricsHandle) {
        let instance = Arc::new(Instance::new(self.config, extra_exposition));
        (
            LogMetricsLayer::new(instance.clone()),
            LogMetricsHandle::new(instance),
        )
    }
}

// Checked here so a change of LEVEL_NAMES cannot silently desync the series arrays.
const _: () = assert!(LEVEL_NAMES.len() == 5);
